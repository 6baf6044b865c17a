using System.Device.Gpio;
using System.Threading.Channels;
using EdgeInference.Agent.Capture;
using EdgeInference.Agent.Sensors;
using EdgeInference.Runtime.Inference;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Gpio;

/// <summary>
/// Watches the trigger pins: each (debounced) edge queues a capture-and-infer, which runs here, one at a time,
/// and is served like any request (prediction log, drift, output rules), with protocol <c>gpio</c>.
/// </summary>
public sealed class GpioTriggerService : BackgroundService
{
    private readonly GpioBoard _board;
    private readonly GpioTriggerOptions[] _triggers;
    private readonly ICaptureSource[] _sources;
    private readonly long[] _lastEdge;
    private readonly CaptureRunner _runner;
    private readonly TimeProvider _time;
    private readonly ILogger<GpioTriggerService> _logger;
    private readonly Channel<int> _edges = Channel.CreateBounded<int>(new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly int _rules;
    private readonly PinChangeEventHandler[] _handlers;
    private long _captures;

    public GpioTriggerService(GpioBoard board, GpioOptions options, CaptureRunner runner, TimeProvider time, ILogger<GpioTriggerService> logger, SensorHub? sensors = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _board = board;
        _triggers = options.Triggers.ToArray();
        _sources = Array.ConvertAll(_triggers, t => CaptureSources.Create(t.Source, sensors));
        _lastEdge = new long[_triggers.Length];
        _handlers = new PinChangeEventHandler[_triggers.Length];
        _rules = options.Rules.Count;
        _runner = runner;
        _time = time;
        _logger = logger;
    }

    /// <summary>Opens the pins before the host reports started, so no edge after that is missed.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _triggers.Length; i++)
        {
            var trigger = _triggers[i];
            var index = i;
            _handlers[i] = (_, _) => OnEdge(index);
            _board.OpenInput(trigger.Pin, trigger.PullUp);
            var edge = trigger.Edge switch { "falling" => PinEventTypes.Falling, "both" => PinEventTypes.Rising | PinEventTypes.Falling, _ => PinEventTypes.Rising };
            _board.Controller.RegisterCallbackForPinValueChangedEvent(trigger.Pin, edge, _handlers[i]);
        }

        GpioLog.Opened(_logger, _board.DriverName, _triggers.Length, _rules);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var index in _edges.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await CaptureAndInferAsync(index, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is FormatException or InferenceException or IOException)
                {
                    GpioLog.TriggerFailed(_logger, _triggers[index].Pin, ex.Message);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The loop boundary: one failed capture must not stop the triggers.
                    GpioLog.TriggerCrashed(_logger, _triggers[index].Pin, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            for (var i = 0; i < _triggers.Length; i++)
            {
                _board.Controller.UnregisterCallbackForPinValueChangedEvent(_triggers[i].Pin, _handlers[i]);
            }
        }
    }

    private void OnEdge(int index)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Exchange(ref _lastEdge[index], now);
        if (last != 0 && _time.GetElapsedTime(last, now).TotalMilliseconds < _triggers[index].DebounceMilliseconds)
        {
            return;
        }

        _edges.Writer.TryWrite(index);
    }

    private Task CaptureAndInferAsync(int index, CancellationToken cancellationToken)
    {
        var trigger = _triggers[index];
        var id = FormattableString.Invariant($"gpio-{trigger.Pin}-{Interlocked.Increment(ref _captures)}");
        return _runner.RunAsync(_sources[index], trigger.Model, trigger.Version, id, "gpio", cancellationToken);
    }
}
