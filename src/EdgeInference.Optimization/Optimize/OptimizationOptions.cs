using EdgeInference.Optimization.Verification;

namespace EdgeInference.Optimization.Optimize;

/// <summary>What <see cref="ModelOptimizer"/> tries and what a variant must hold to.</summary>
public sealed class OptimizationOptions
{
    /// <summary>The accuracy gates every kept variant must pass against the float model on the held-out inputs; at least one.</summary>
    public VerificationGates Gates { get; init; } = new();

    public IReadOnlyList<QuantizationVariant> Variants { get; init; } = QuantizationVariant.All;

    /// <summary>Nodes, by name, every variant leaves in float.</summary>
    public IReadOnlyCollection<string> Exclude { get; init; } = [];

    /// <summary>How many held-out inputs become golden vectors.</summary>
    public int GoldenCases { get; init; } = 8;

    /// <summary>The clock that dates the drift profile.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
