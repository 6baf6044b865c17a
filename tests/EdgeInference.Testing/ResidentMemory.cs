using System.Globalization;

namespace EdgeInference.Testing;

/// <summary>A process's resident memory, read from <c>/proc/{pid}/status</c> (Linux).</summary>
public static class ResidentMemory
{
    /// <summary>VmRSS of <paramref name="pid"/>, in MiB.</summary>
    public static double Mebibytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
