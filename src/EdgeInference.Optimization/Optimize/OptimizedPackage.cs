using EdgeInference.Packaging;

namespace EdgeInference.Optimization.Optimize;

/// <summary>What <see cref="ModelOptimizer"/> made: the chosen model and its golden vectors (both null when no variant passed), and the report.</summary>
public sealed record OptimizedPackage(byte[]? Model, GoldenSet? Golden, OptimizationReport Report);
