namespace EdgeInference.Fleet.Hosting;

/// <summary>The fleet service's settings (section <c>Fleet</c>; <c>--data</c>, <c>--mqtt-port</c> and friends on the command line).</summary>
public sealed class FleetOptions
{
    public const string Section = "Fleet";

    /// <summary>Where the store (<c>fleet.db</c>), the packages and the generated operator token live.</summary>
    public string Data { get; set; } = "fleet-data";

    /// <summary>A PostgreSQL database for the fleet's state (<c>postgres://user:password@host:5432/fleet</c> or an Npgsql connection string) instead of LiteDB in <see cref="Data"/>.</summary>
    public string? Store { get; set; }

    /// <summary>The embedded broker's plain-TCP port (1883 by default, 0: none); ignored with <see cref="MqttUrl"/>.</summary>
    public int MqttPort { get; set; } = 1883;

    /// <summary>The embedded broker's TLS port (8883 by default, 0: none), with <see cref="FleetCertificate"/>.</summary>
    public int MqttTlsPort { get; set; } = 8883;

    /// <summary>The address the embedded broker listens on: loopback unless the operator opens it (e.g. <c>0.0.0.0</c>).</summary>
    public string MqttBind { get; set; } = "127.0.0.1";

    /// <summary>PEM certificate of the TLS endpoints (broker and HTTPS); without it the fleet generates one in its data folder.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificate"/> (default: the certificate file itself).</summary>
    public string? TlsKey { get; set; }

    /// <summary>PEM of the CA that signed <see cref="TlsCertificate"/>, handed to enrolled devices to pin.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>
    /// An external broker (<c>mqtt://host:port</c>, or <c>mqtts://</c>) instead of the embedded one; several, comma-separated,
    /// for a cluster's nodes: the fleet connects to the first that answers, and to the next when it goes.
    /// </summary>
    public string? MqttUrl { get; set; }

    /// <summary>
    /// With an external broker, the group of the shared subscriptions (<c>$share/{group}/edge/+/…</c>) through which
    /// replicas split the devices' messages, each handled once; empty: every replica takes every message.
    /// </summary>
    public string MqttSharedGroup { get; set; } = "edge-fleet";

    /// <summary>
    /// How the fleet administers an external broker's devices: <c>none</c> (the default: the broker's operator does),
    /// <c>mosquitto</c> (its dynamic-security plugin; the fleet's broker account must hold the plugin's admin role) or
    /// <c>rabbitmq</c> (users and topic permissions through the management API at <see cref="BrokerAdminUrl"/>).
    /// </summary>
    public string BrokerAdmin { get; set; } = NoAdmin;

    public const string NoAdmin = "none";

    public const string MosquittoAdmin = "mosquitto";

    public const string RabbitMqAdmin = "rabbitmq";

    /// <summary>
    /// With <c>--broker-admin rabbitmq</c>, the management HTTP API (<c>http://host:15672</c>; several, comma-separated,
    /// for a cluster: the first that answers is used). The fleet's broker account must carry the <c>administrator</c> tag.
    /// </summary>
    public string? BrokerAdminUrl { get; set; }

    /// <summary>
    /// The MQTT version of the fleet's broker connection: <c>5</c> (the default) or <c>3.1.1</c> (RabbitMQ's MQTT plugin).
    /// </summary>
    public string MqttProtocol { get; set; } = Mqtt5;

    public const string Mqtt5 = "5";

    public const string Mqtt311 = "3.1.1";

    /// <summary>
    /// RabbitMQ's AMQP listener(s) (<c>amqp://user:password@host:5672/vhost</c>, comma-separated for a cluster). With it,
    /// devices' telemetry, drift and replies reach the replicas through the durable quorum queue <see cref="AmqpQueue"/>,
    /// each message acknowledged only once it is in the store; over MQTT the fleet then takes only their status.
    /// </summary>
    public string? AmqpUrl { get; set; }

    /// <summary>The quorum queue the replicas consume device events from (bound to <c>amq.topic</c>).</summary>
    public string AmqpQueue { get; set; } = "edge-fleet-events";

    public string? MqttUsername { get; set; }

    public string? MqttPassword { get; set; }

    /// <summary>The URL devices use to reach this service (package downloads); default the first of <c>--urls</c>.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The broker URL handed to enrolled devices; default <c>mqtt://&lt;PublicUrl host&gt;:&lt;MqttPort&gt;</c>.</summary>
    public string? DeviceMqttUrl { get; set; }

    /// <summary>An operator token to accept (besides the one generated into the data folder on first start).</summary>
    public string? OperatorToken { get; set; }

    /// <summary>A read-only token for dashboards.</summary>
    public string? ReaderToken { get; set; }

    /// <summary>How often the rollout engine looks at every active rollout.</summary>
    public TimeSpan RolloutInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A command that hears nothing back for this long is sent again.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a QoS 1 publish waits for the broker's acknowledgement before the connection is dropped and made again
    /// (a broker that stopped acknowledging cannot be trusted with the next command either).
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the download token in a deploy command is good for (it is minted afresh at every send).</summary>
    public TimeSpan DownloadTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>On PostgreSQL, how long telemetry and drift windows are kept for the charts (whole days).</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary><see cref="MqttUrl"/>'s brokers, in order (empty with the embedded broker).</summary>
    public IReadOnlyList<string> MqttUrls => List(MqttUrl);

    /// <summary><see cref="AmqpUrl"/>'s nodes, in order.</summary>
    public IReadOnlyList<string> AmqpUrls => List(AmqpUrl);

    /// <summary><see cref="BrokerAdminUrl"/>'s management endpoints, in order.</summary>
    public IReadOnlyList<string> BrokerAdminUrls => List(BrokerAdminUrl);

    /// <summary>The largest package file accepted.</summary>
    public long MaxPackageFileBytes { get; set; } = 2L << 30;

    private static string[] List(string? urls) => urls?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
