using System.Collections.Concurrent;

namespace EdgeInference.Fleet.Simulator;

/// <summary>What the simulated devices did, counted as they did it (thread-safe).</summary>
public sealed class SimulatorCounts
{
    private long _connected;
    private long _commands;
    private long _duplicates;
    private long _replies;
    private long _failures;
    private long _downloads;
    private long _telemetry;
    private long _errors;
    private string? _lastError;
    private readonly ConcurrentDictionary<string, int> _installs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TimeSpan> _firstReply = new();

    /// <summary>Devices connected now.</summary>
    public long Connected => Interlocked.Read(ref _connected);

    /// <summary>Commands received, duplicates included.</summary>
    public long Commands => Interlocked.Read(ref _commands);

    /// <summary>Commands received again with an id already handled (by the broker, a resend, or <see cref="SimulatorOptions.DuplicateShare"/>).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Replies => Interlocked.Read(ref _replies);

    public long Failures => Interlocked.Read(ref _failures);

    public long Downloads => Interlocked.Read(ref _downloads);

    public long Telemetry => Interlocked.Read(ref _telemetry);

    /// <summary>Commands a device could not carry out (disconnected, a failed download, an unreadable command).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>The last of those errors, with its device.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    /// <summary>Installs each device carried out to the switch (a new command id each), by device.</summary>
    public IReadOnlyDictionary<string, int> Installs => _installs;

    /// <summary>From the command's issue time to the device's first reply, for each deploy.</summary>
    public IReadOnlyCollection<TimeSpan> FirstReplyDelays => _firstReply;

    internal void OnConnected() => Interlocked.Increment(ref _connected);

    internal void OnDisconnected() => Interlocked.Decrement(ref _connected);

    internal void OnCommand() => Interlocked.Increment(ref _commands);

    internal void OnDuplicate() => Interlocked.Increment(ref _duplicates);

    internal void OnReply() => Interlocked.Increment(ref _replies);

    internal void OnFailure() => Interlocked.Increment(ref _failures);

    internal void OnDownload() => Interlocked.Increment(ref _downloads);

    internal void OnTelemetry() => Interlocked.Increment(ref _telemetry);

    internal void OnError(string deviceId, Exception error)
    {
        Interlocked.Increment(ref _errors);
        Volatile.Write(ref _lastError, $"{deviceId}: {error.GetType().Name}: {error.Message}");
    }

    internal void OnDeploy(TimeSpan firstReply) => _firstReply.Enqueue(firstReply);

    internal void OnInstall(string deviceId) => _installs.AddOrUpdate(deviceId, 1, (_, n) => n + 1);
}
