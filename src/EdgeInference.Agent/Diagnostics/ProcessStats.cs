using System.Globalization;

namespace EdgeInference.Agent.Diagnostics;

/// <summary>Resident memory and CPU time of this process, read from /proc (Linux).</summary>
public static class ProcessStats
{
    /// <summary>VmRSS in bytes, or 0 where /proc is not there.</summary>
    public static long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>User plus system CPU seconds used so far.</summary>
    public static double CpuSeconds()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
