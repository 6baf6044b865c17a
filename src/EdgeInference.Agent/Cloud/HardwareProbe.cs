using System.Globalization;
using System.Runtime.InteropServices;
using EdgeInference.Contracts;

namespace EdgeInference.Agent.Cloud;

/// <summary>Reads what the device is and how it is doing from /proc and /sys (Linux); absent files read as unknown.</summary>
public sealed class HardwareProbe
{
    /// <summary>Device nodes of accelerators ONNX Runtime execution providers can use.</summary>
    private static readonly (string Pattern, string Name)[] AcceleratorNodes =
    [
        ("/dev/nvidia0", "NVIDIA GPU"), ("/dev/dri/renderD*", "DRM render node (GPU)"), ("/dev/apex_*", "Coral Edge TPU"),
        ("/dev/accel/accel*", "NPU (accel)"), ("/dev/fastrpc-*", "Qualcomm Hexagon DSP"), ("/dev/mali0", "Mali GPU"),
    ];

    private readonly string _root;

    /// <param name="root">The filesystem root to read (<c>/</c> on a device; a folder in tests).</param>
    public HardwareProbe(string root = "/")
    {
        _root = root;
    }

    public HardwareInfo Describe(IEnumerable<string> executionProviders)
    {
        var info = new HardwareInfo
        {
            Architecture = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
            CpuCount = Environment.ProcessorCount,
            CpuModel = CpuModel(),
            MemoryTotalBytes = MemoryTotalBytes(),
            OperatingSystem = OperatingSystemName() ?? RuntimeInformation.OSDescription,
        };
        info.Accelerators.AddRange(executionProviders.Where(p => p != "CPU").Select(p => $"ONNX Runtime {p}"));
        foreach (var (pattern, name) in AcceleratorNodes)
        {
            var path = Under(pattern);
            var directory = Path.GetDirectoryName(path)!;
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory, Path.GetFileName(path)).Any())
            {
                info.Accelerators.Add(name);
            }
        }

        return info;
    }

    /// <summary>The hottest thermal zone in °C, or null.</summary>
    public double? TemperatureCelsius()
    {
        var zones = Under("sys/class/thermal");
        if (!Directory.Exists(zones))
        {
            return null;
        }

        double? hottest = null;
        foreach (var zone in Directory.EnumerateDirectories(zones, "thermal_zone*"))
        {
            if (ReadFirstLine(Path.Combine(zone, "temp")) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var milli))
            {
                hottest = Math.Max(hottest ?? double.MinValue, milli / 1000.0);
            }
        }

        return hottest;
    }

    public double? LoadAverage1m()
    {
        var text = ReadFirstLine(Under("proc/loadavg"));
        return text is not null && double.TryParse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;
    }

    public static long DiskFreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private string? CpuModel()
    {
        foreach (var line in ReadLines(Under("proc/cpuinfo")))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() is "model name" or "Model" or "Hardware")
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    private long MemoryTotalBytes()
    {
        foreach (var line in ReadLines(Under("proc/meminfo")))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                && long.TryParse(line["MemTotal:".Length..].Trim().Split(' ')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
            {
                return kb * 1024;
            }
        }

        return 0;
    }

    private string? OperatingSystemName()
    {
        foreach (var line in ReadLines(Under("etc/os-release")))
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }

        return null;
    }

    private string Under(string path) => Path.Combine(_root, path.TrimStart('/'));

    private static string? ReadFirstLine(string path) => ReadLines(path).FirstOrDefault()?.Trim();

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
