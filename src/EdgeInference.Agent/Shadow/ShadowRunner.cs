using System.Globalization;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Agent.Shadow;

/// <summary>
/// Replays live requests on a candidate version that is not serving, and compares its answers with what the
/// serving version answered. An output agrees when its shape is the same and, for outputs whose last dimension
/// holds several classes, every row picks the same top class; for other outputs, when every value is within
/// <c>tolerance × (1 + |served|)</c>.
/// </summary>
public static class ShadowRunner
{
    public static async Task<ShadowOutcome> RunAsync(
        ModelVersion candidate, ShadowFeed feed, int requests, TimeSpan duration, double tolerance, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(feed);
        using var window = new CancellationTokenSource(duration, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, window.Token);
        int compared = 0, agreed = 0;
        string? firstDisagreement = null;
        while (compared < requests)
        {
            ShadowSample sample;
            try
            {
                sample = await feed.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }

            using (sample)
            {
                var difference = await CompareAsync(candidate, sample, tolerance, cancellationToken).ConfigureAwait(false);
                compared++;
                if (difference is null)
                {
                    agreed++;
                }
                else
                {
                    firstDisagreement ??= difference;
                }
            }
        }

        return new ShadowOutcome(compared, agreed, feed.Skipped, firstDisagreement);
    }

    /// <summary>Runs <paramref name="sample"/> on <paramref name="candidate"/>; null when it agrees, else what differs.</summary>
    public static async Task<string?> CompareAsync(ModelVersion candidate, ShadowSample sample, double tolerance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(sample);
        using var request = new InferenceRequest(candidate.Inputs.Count);
        for (var i = 0; i < candidate.Inputs.Count; i++)
        {
            var name = candidate.Inputs[i].Name;
            var input = Array.Find(sample.Inputs, t => t.Name == name);
            if (input is null)
            {
                return $"the new version needs input '{name}', which live requests do not carry";
            }

            // The sample's own copy moves into the request (disposing a buffer twice is harmless).
            request.Inputs[i] = input;
        }

        InferenceResponse response;
        try
        {
            response = await candidate.InferAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (InferenceException ex)
        {
            return "the new version failed on a live request: " + ex.Message;
        }

        using (response)
        {
            foreach (var served in sample.Served)
            {
                var index = candidate.OutputIndex(served.Name);
                if (index < 0 || response.Outputs[index] is not { } answer)
                {
                    return $"the new version has no output '{served.Name}'";
                }

                if (Difference(served, answer, tolerance) is { } difference)
                {
                    return difference;
                }
            }
        }

        return null;
    }

    private static string? Difference(TensorBuffer served, TensorBuffer answer, double tolerance)
    {
        if (!served.Shape.AsSpan().SequenceEqual(answer.Shape) || served.DataType != answer.DataType)
        {
            return $"output '{served.Name}' is {answer.DataType.ToProtocolName()} {TensorShape.Format(answer.Shape)}, the serving version's {served.DataType.ToProtocolName()} {TensorShape.Format(served.Shape)}";
        }

        if (served.DataType == TensorDataType.Bytes)
        {
            return served.Span.SequenceEqual(answer.Span) ? null : $"output '{served.Name}' differs";
        }

        var count = (int)served.ElementCount;
        var classes = served.Shape.Length == 0 ? 1 : (int)served.Shape[^1];
        if (classes > 1)
        {
            for (var row = 0; row + classes <= count; row += classes)
            {
                int servedTop = ArgMax(served, row, classes), answerTop = ArgMax(answer, row, classes);
                if (servedTop != answerTop)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"output '{served.Name}' row {row / classes}: top class {answerTop}, the serving version's {servedTop}");
                }
            }

            return null;
        }

        for (var i = 0; i < count; i++)
        {
            double want = TensorValues.Get(served.Span, served.DataType, i), got = TensorValues.Get(answer.Span, answer.DataType, i);
            if (!(Math.Abs(got - want) <= tolerance * (1 + Math.Abs(want))))
            {
                return string.Create(CultureInfo.InvariantCulture, $"output '{served.Name}'[{i}] is {got:G6}, the serving version's {want:G6} (tolerance {tolerance:G3})");
            }
        }

        return null;
    }

    private static int ArgMax(TensorBuffer tensor, int offset, int count)
    {
        var best = 0;
        var bestValue = double.NegativeInfinity;
        for (var i = 0; i < count; i++)
        {
            var value = TensorValues.Get(tensor.Span, tensor.DataType, offset + i);
            if (value > bestValue)
            {
                best = i;
                bestValue = value;
            }
        }

        return best;
    }
}
