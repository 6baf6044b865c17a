using EdgeInference.Storage;

namespace EdgeInference.Agent.Cloud;

/// <summary>The link to the fleet over MQTT (section <c>Mqtt</c>); without <see cref="Url"/> the agent runs standalone.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    /// <summary><c>mqtt://host:port</c> (default port 1883) or <c>mqtts://host:port</c> (TLS, default 8883).</summary>
    public string? Url { get; set; }

    /// <summary>The device's name in topics; default the host name.</summary>
    public string? DeviceId { get; set; }

    /// <summary><c>5</c> (default) or <c>3.1.1</c>, for brokers that need it.</summary>
    public string Protocol { get; set; } = "5";

    /// <summary>
    /// Keep the session (and the commands queued for it) across disconnects, for <see cref="SessionExpiry"/> on MQTT 5.
    /// Off by default: the fleet sends a silent command again. On a RabbitMQ cluster turn it on (with <c>mqtt.durable_queue_type = quorum</c>): a clean session's
    /// queue lives on one node, and while that node is down the device cannot subscribe again under its client id.
    /// </summary>
    public bool PersistentSession { get; set; }

    /// <summary>
    /// How long the broker keeps a persistent session (and its queued commands) after the device goes (MQTT 5's session
    /// expiry): a week, beyond the lifetime of any command the fleet sends.
    /// </summary>
    public static readonly TimeSpan SessionExpiry = TimeSpan.FromDays(7);

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signs the broker's certificate (TLS); default the system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// The broker's certificate authority as PEM text (the <c>ca_pem</c> an enrollment returns, pinned); it also checks
    /// HTTPS package downloads. Takes precedence over <see cref="CaFile"/>.
    /// </summary>
    public string? CaPem { get; set; }

    /// <summary>PEM client certificate for mutual TLS, with <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait after a failed connection; it doubles per failure (with jitter) up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan TelemetryInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Prediction records per message on the predictions topic.</summary>
    public int PredictionBatchSize { get; set; } = 500;

    /// <summary>Prediction records per second at most while a backlog is sent, so live messages keep flowing.</summary>
    public int BacklogRecordsPerSecond { get; set; } = 50_000;

    /// <summary>The outbox of telemetry and drift messages (<c>outbox.db</c> in the data directory).</summary>
    public DurableLogOptions Outbox { get; set; } = new() { MaxRecords = 50_000, CommitInterval = TimeSpan.FromMilliseconds(50) };
}
