using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Gpio;

/// <summary>
/// Output rules: after each prediction of a rule's model, the watched output's largest element is compared with
/// the threshold; when it fires, the rule's pin is set and a timer clears it after the hold time (a new firing
/// extends it), like a wake word lighting an LED.
/// </summary>
public sealed class GpioOutputRules : IPredictionObserver, IDisposable
{
    private readonly GpioBoard _board;
    private readonly GpioRuleOptions[] _rules;
    private readonly TimeProvider _time;
    private readonly ILogger<GpioOutputRules> _logger;
    private readonly ITimer[] _timers;
    private readonly bool[] _on;
    private readonly Lock _gate = new();

    public GpioOutputRules(GpioBoard board, GpioOptions options, TimeProvider time, ILogger<GpioOutputRules> logger)
    {
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(options);
        _board = board;
        _rules = options.Rules.ToArray();
        _time = time;
        _logger = logger;
        _on = new bool[_rules.Length];
        _timers = new ITimer[_rules.Length];
        for (var i = 0; i < _rules.Length; i++)
        {
            board.OpenOutput(_rules[i].Pin, _rules[i].ActiveLow);
            var rule = i;
            _timers[i] = time.CreateTimer(_ => Clear(rule), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Observe(InferenceRequest request, InferenceResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        for (var i = 0; i < _rules.Length; i++)
        {
            var rule = _rules[i];
            if (!string.Equals(rule.Model, response.Model.ModelName, StringComparison.Ordinal))
            {
                continue;
            }

            var index = 0;
            if (rule.Output is { } name)
            {
                index = -1;
                foreach (var spec in response.Model.Outputs)
                {
                    index = spec.Name == name ? spec.Index : index;
                }
            }

            if (index < 0 || index >= response.Outputs.Length || response.Outputs[index] is not { DataType: not TensorDataType.Bytes } output || output.ElementCount <= 0)
            {
                continue;
            }

            var value = Largest(output);
            if (rule.Below ? value < rule.Threshold : value >= rule.Threshold)
            {
                Fire(i, output.Name, value);
            }
        }
    }

    public void Dispose()
    {
        foreach (var timer in _timers)
        {
            timer.Dispose();
        }
    }

    private static double Largest(TensorBuffer output)
    {
        if (output.DataType == TensorDataType.Fp32)
        {
            return TensorPrimitives.Max(MemoryMarshal.Cast<byte, float>(output.Span));
        }

        var largest = double.NegativeInfinity;
        for (var i = 0; i < output.ElementCount; i++)
        {
            largest = Math.Max(largest, TensorValues.Get(output.Span, output.DataType, i));
        }

        return largest;
    }

    private void Fire(int index, string output, double value)
    {
        var rule = _rules[index];
        bool wasOn;
        lock (_gate)
        {
            wasOn = _on[index];
            _on[index] = true;
            if (!wasOn)
            {
                _board.Write(rule.Pin, on: true, rule.ActiveLow);
            }

            _timers[index].Change(TimeSpan.FromMilliseconds(rule.HoldMilliseconds), Timeout.InfiniteTimeSpan);
        }

        if (!wasOn)
        {
            GpioLog.RuleFired(_logger, rule.Model, output, value, rule.Threshold, rule.Pin, rule.HoldMilliseconds);
        }
    }

    private void Clear(int index)
    {
        lock (_gate)
        {
            if (_on[index])
            {
                _on[index] = false;
                _board.Write(_rules[index].Pin, on: false, _rules[index].ActiveLow);
            }
        }
    }
}
