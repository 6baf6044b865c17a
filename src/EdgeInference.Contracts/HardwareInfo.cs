namespace EdgeInference.Contracts;

/// <summary>The device's hardware as the agent sees it.</summary>
public sealed class HardwareInfo
{
    /// <summary><c>x64</c> or <c>arm64</c>.</summary>
    public string Architecture { get; set; } = "";

    public int CpuCount { get; set; }

    public string? CpuModel { get; set; }

    public long MemoryTotalBytes { get; set; }

    public string? OperatingSystem { get; set; }

    /// <summary>Accelerators found: ONNX Runtime execution providers other than CPU, and known device nodes.</summary>
    public List<string> Accelerators { get; set; } = [];
}
