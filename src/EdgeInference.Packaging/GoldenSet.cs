namespace EdgeInference.Packaging;

/// <summary>
/// Golden test vectors (<c>golden.json</c>): inputs with the outputs the model must give for them. A device
/// runs them on a staged version before switching to it; an output passes when every element is within
/// <see cref="AbsoluteTolerance"/> + <see cref="RelativeTolerance"/> × |expected|.
/// </summary>
public sealed class GoldenSet
{
    public double AbsoluteTolerance { get; set; } = 1e-4;

    public double RelativeTolerance { get; set; } = 1e-3;

    public List<GoldenCase> Cases { get; set; } = [];
}
