using System.Text.Json;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Cloud;

/// <summary>
/// Store-and-forward: drains the outbox (telemetry, drift) and the prediction log to the broker, in order,
/// each from its own durable checkpoint, which moves only after the broker's QoS 1 acknowledgement (persist,
/// then send, then advance). Outbox messages go first on every round, so live telemetry is never stuck behind
/// a backlog of predictions, and a backlog goes at most <see cref="MqttOptions.BacklogRecordsPerSecond"/>.
/// A crash resends at most the batch that was in flight: delivery is at least once, and record ids let
/// consumers drop the duplicates.
/// </summary>
public sealed class ForwardingService : BackgroundService
{
    /// <summary>The consumer name of the publisher's checkpoints in the outbox and in the prediction log.</summary>
    public const string CheckpointName = "mqtt";

    private const int OutboxBatch = 32;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(50);

    private readonly MqttLink _link;
    private readonly OutboxStore _outbox;
    private readonly PredictionLogStore? _predictions;
    private readonly MqttOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ForwardingService> _logger;
    private long _recordsSent;
    private long _messagesSent;

    public ForwardingService(MqttLink link, OutboxStore outbox, PredictionLogStore? predictions, MqttOptions options, TimeProvider time, ILogger<ForwardingService> logger)
    {
        _link = link;
        _outbox = outbox;
        _predictions = predictions;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Prediction records the broker has acknowledged since start.</summary>
    public long RecordsSent => Interlocked.Read(ref _recordsSent);

    /// <summary>Outbox messages the broker has acknowledged since start.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outboxDone = _outbox.ReadCheckpoint(CheckpointName);
        var predictionsDone = _predictions?.ReadCheckpoint(CheckpointName) ?? 0;
        var paceUntil = _time.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _link.WaitConnectedAsync(stoppingToken).ConfigureAwait(false);
                var sent = false;
                foreach (var message in _outbox.Read(outboxDone, OutboxBatch))
                {
                    await _link.PublishAsync($"{MqttTopics.Root}/{_link.DeviceId}/{message.Topic}", message.Payload, retain: false, stoppingToken).ConfigureAwait(false);
                    outboxDone = message.Sequence;
                    Interlocked.Increment(ref _messagesSent);
                    sent = true;
                }

                if (sent)
                {
                    _outbox.SaveCheckpoint(CheckpointName, outboxDone);
                }

                if (_predictions is not null && _time.GetTimestamp() >= paceUntil)
                {
                    var records = _predictions.Read(predictionsDone, _options.PredictionBatchSize);
                    if (records.Count > 0)
                    {
                        await _link.PublishAsync(MqttTopics.Predictions(_link.DeviceId), SerializeBatch(records), retain: false, stoppingToken).ConfigureAwait(false);
                        predictionsDone = records[^1].Sequence;
                        _predictions.SaveCheckpoint(CheckpointName, predictionsDone);
                        Interlocked.Add(ref _recordsSent, records.Count);
                        paceUntil = _time.GetTimestamp() + (long)(_time.TimestampFrequency * records.Count / (double)_options.BacklogRecordsPerSecond);
                        sent = true;
                    }
                }

                if (!sent)
                {
                    await Task.Delay(IdlePoll, _time, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary. Not acknowledged (link lost, broker refused, store busy): the checkpoint
                // stays, and the same messages go again once the link is back.
                CloudLog.ForwardingPaused(_logger, ex.Message);
                await Task.Delay(IdlePoll, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private byte[] SerializeBatch(IReadOnlyList<PredictionRecord> records)
    {
        var batch = new PredictionBatchMessage
        {
            Timestamp = _time.GetUtcNow(),
            DeviceId = _link.DeviceId,
            FirstSequence = records[0].Sequence,
            LastSequence = records[^1].Sequence,
            Records = new List<PredictionMessage>(records.Count),
        };
        foreach (var record in records)
        {
            batch.Records.Add(new PredictionMessage
            {
                Id = $"{_link.DeviceId}:{record.Sequence}",
                Sequence = record.Sequence,
                RequestId = record.RequestId,
                Model = record.Model,
                Version = record.Version,
                Timestamp = record.Timestamp,
                LatencyUs = record.LatencyMicroseconds,
                Protocol = record.Protocol,
                Outputs = record.Outputs.Select(o => new OutputSummaryMessage { Name = o.Name, Shape = o.Shape, Values = o.Values }).ToList(),
                Inputs = record.Inputs?.Select(i => new InputSampleMessage { Name = i.Name, Datatype = i.DataType, Shape = i.Shape, Data = i.Data }).ToList(),
            });
        }

        return JsonSerializer.SerializeToUtf8Bytes(batch, ContractJsonContext.Default.PredictionBatchMessage);
    }
}
