namespace EdgeInference.Contracts;

/// <summary>One model version as the status message lists it.</summary>
public sealed class ModelStatus
{
    public string Model { get; set; } = "";

    public long Version { get; set; }

    /// <summary>The semantic version of the package installed as this version, when it came from one.</summary>
    public string? PackageVersion { get; set; }

    /// <summary><c>READY</c>, <c>LOADING</c>, <c>FAILED</c> or <c>UNLOADING</c>.</summary>
    public string State { get; set; } = "";

    public string ExecutionProvider { get; set; } = "";

    /// <summary>Why each provider preferred to <see cref="ExecutionProvider"/> was passed over (not in the build, or its library did not load, and why).</summary>
    public List<string>? ExecutionProviderNotes { get; set; }

    public string? Threading { get; set; }

    public string? Error { get; set; }
}
