namespace EdgeInference.Contracts;

/// <summary>What a device measured running a package it was asked to benchmark, beside what it serves.</summary>
public sealed class BenchmarkResult
{
    public int Iterations { get; set; }

    /// <summary>The execution provider the package's model loaded with (the model's own config decides, as for a deploy).</summary>
    public string Provider { get; set; } = "";

    /// <summary>Why the provider was chosen or others were not, as the device says in its status.</summary>
    public List<string>? ProviderNotes { get; set; }

    /// <summary>Where the inputs came from: <c>golden</c> (the package's golden vectors) or <c>zeros</c> (from the model's input shapes).</summary>
    public string Inputs { get; set; } = "";

    /// <summary>Loading the model (session creation and its own warm-up), in milliseconds.</summary>
    public double LoadMs { get; set; }

    public double MeanMs { get; set; }

    public double P50Ms { get; set; }

    public double P95Ms { get; set; }

    public double P99Ms { get; set; }

    /// <summary>How much the agent's resident memory grew with the model loaded.</summary>
    public long RssIncreaseBytes { get; set; }
}
