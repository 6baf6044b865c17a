namespace EdgeInference.Fleet.Simulator;

/// <summary>How the simulated devices behave (<c>edge-sim</c>'s options).</summary>
public sealed class SimulatorOptions
{
    /// <summary>The broker's host.</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 1883;

    /// <summary>
    /// A cluster's nodes on <see cref="Host"/> (empty: just <see cref="Port"/>): devices are spread over them, and a device
    /// whose node goes connects to the next.
    /// </summary>
    public IReadOnlyList<int> Ports { get; set; } = [];

    /// <summary><c>5</c> (MQTT 5) or <c>3.1.1</c> (RabbitMQ's MQTT plugin).</summary>
    public string Protocol { get; set; } = "5";

    /// <summary>Keep each device's session across disconnects (the agent's <c>Mqtt:PersistentSession</c>), as on a RabbitMQ cluster.</summary>
    public bool PersistentSession { get; set; }

    /// <summary>The model every device serves at start, and its version.</summary>
    public string Model { get; set; } = "scorer";

    public string Version { get; set; } = "1.0.0";

    /// <summary>How often each device sends a telemetry window (zero: never).</summary>
    public TimeSpan TelemetryInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The time each install step takes (verify, download, stage, test, switch).</summary>
    public TimeSpan StepDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a switched version must run before the device confirms it.</summary>
    public TimeSpan Probation { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The share of installs that fail their test (reason <c>simulated_failure</c>).</summary>
    public double FailureRate { get; set; }

    /// <summary>The share of devices that never come online.</summary>
    public double OfflineShare { get; set; }

    /// <summary>The share of devices whose every step takes <see cref="SlowFactor"/> times longer.</summary>
    public double SlowShare { get; set; }

    public int SlowFactor { get; set; } = 10;

    /// <summary>The share of commands each device handles twice, as a broker's duplicate delivery would make it.</summary>
    public double DuplicateShare { get; set; }

    /// <summary>Whether an install downloads the package's files (with the deploy's token) and checks their SHA-256.</summary>
    public bool Download { get; set; }

    /// <summary>How many loopback source addresses (127.0.0.2, .3, …) the connections are spread over, past one address's ephemeral ports.</summary>
    public int SourceAddresses { get; set; } = 1;

    /// <summary>How many devices connect at once.</summary>
    public int ConnectConcurrency { get; set; } = 64;

    /// <summary>The seed of the simulator's choices, so a run can be repeated.</summary>
    public int Seed { get; set; } = 1;
}
