using EdgeInference.Contracts;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Registry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace EdgeInference.Fleet.Broker;

/// <summary>
/// On RabbitMQ (<c>--amqp-url</c>), the devices' telemetry, drift and replies reach the replicas through one durable quorum
/// queue (<see cref="FleetOptions.AmqpQueue"/>, replicated on the cluster's nodes) bound to <c>amq.topic</c>, where the MQTT
/// plugin routes what devices publish. Every replica consumes it; RabbitMQ hands each message to one of them, which stores
/// it (<see cref="DeviceRegistry.Handle"/>) and only then acknowledges it, or gives it back when the store is away. A replica killed mid-message, or a node lost,
/// leaves the unacknowledged messages to be delivered again, to a replica that is there. The client reconnects by itself,
/// to whichever node of the list answers.
/// </summary>
public sealed class AmqpDeviceEvents : BackgroundService
{
    /// <summary>The routing keys taken (MQTT's <c>edge/+/telemetry</c>… with AMQP's separators).</summary>
    public static readonly string[] Bindings = [$"{MqttTopics.Root}.*.telemetry", $"{MqttTopics.Root}.*.drift", $"{MqttTopics.Root}.*.replies.*"];

    /// <summary>Messages delivered to this replica and not yet acknowledged, at most.</summary>
    private const ushort Prefetch = 64;

    private readonly DeviceRegistry _registry;
    private readonly FleetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AmqpDeviceEvents> _logger;
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);
    private long _handled;
    private long _requeued;

    public AmqpDeviceEvents(DeviceRegistry registry, FleetOptions options, TimeProvider time, ILogger<AmqpDeviceEvents> logger)
    {
        _registry = registry;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Messages taken from the queue and acknowledged by this replica.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>Messages given back to the queue because the store could not take them.</summary>
    public long Requeued => Interlocked.Read(ref _requeued);

    /// <summary>An AMQP routing key back as the MQTT topic the device published on.</summary>
    public static string Topic(string routingKey) => routingKey.Replace('.', '/');

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = new Uri(_options.AmqpUrls[0]);
        var factory = new ConnectionFactory
        {
            Uri = first,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
            ClientProvidedName = $"edge-fleet-{Environment.MachineName}-{Environment.ProcessId}",
            ConsumerDispatchConcurrency = 1,
        };
        var endpoints = _options.AmqpUrls.Select(url => new AmqpTcpEndpoint(new Uri(url))).ToList();
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(endpoints, stoppingToken).ConfigureAwait(false);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                await channel.QueueDeclareAsync(_options.AmqpQueue, durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: stoppingToken).ConfigureAwait(false);
                foreach (var key in Bindings)
                {
                    await channel.QueueBindAsync(_options.AmqpQueue, "amq.topic", key, cancellationToken: stoppingToken).ConfigureAwait(false);
                }

                await channel.BasicQosAsync(0, Prefetch, false, stoppingToken).ConfigureAwait(false);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += async (_, delivery) =>
                {
                    // Stored first, acknowledged after. When the store is away the message goes back to the queue (after
                    // a pause, not in a tight loop), for whichever replica can store it.
                    if (_registry.Handle(Topic(delivery.RoutingKey), delivery.Body.Span))
                    {
                        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _handled);
                    }
                    else
                    {
                        await Task.Delay(RetryPause, _time, stoppingToken).ConfigureAwait(false);
                        await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, stoppingToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _requeued);
                    }
                };
                await channel.BasicConsumeAsync(_options.AmqpQueue, autoAck: false, consumer, stoppingToken).ConfigureAwait(false);
                FleetLog.AmqpConsuming(_logger, _options.AmqpQueue, connection.Endpoint.ToString());
                delay = TimeSpan.FromMilliseconds(250);

                // From here the client recovers the connection, the channel and the consumer by itself.
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: no node answered, or the queue could not be set up; wait and try again.
                FleetLog.AmqpFailed(_logger, delay.TotalSeconds, ex.Message);
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
