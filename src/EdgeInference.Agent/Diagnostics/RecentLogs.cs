using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Diagnostics;

/// <summary>
/// The agent's last log lines in memory (a bounded ring), for the fleet's <c>collect_logs</c> command: what the
/// device said lately, without shell access to its journal. It keeps what the configured log levels let through.
/// </summary>
public sealed class RecentLogs : ILoggerProvider
{
    private readonly string[] _lines;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _written;

    public RecentLogs(int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _lines = new string[capacity];
        _time = time;
    }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public List<string> Last(int count)
    {
        lock (_lock)
        {
            var available = (int)Math.Min(_written, _lines.Length);
            var take = Math.Clamp(count, 0, available);
            var lines = new List<string>(take);
            for (var i = _written - take; i < _written; i++)
            {
                lines.Add(_lines[i % _lines.Length]);
            }

            return lines;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lock (_lock)
        {
            _lines[_written % _lines.Length] = line;
            _written++;
        }
    }

    private sealed class Logger(RecentLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner.Add($"{owner._time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {logLevel} {category}: {message}{(exception is null ? "" : " " + exception.Message)}");
        }
    }
}
