using EdgeInference.Agent.Commands;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.Updates;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Sensors;
using EdgeInference.Agent.Settings;
using EdgeInference.Storage;
using EdgeInference.Runtime.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Cloud;

/// <summary>Adds the link to the fleet: the MQTT connection, the outbox, telemetry and forwarding (only with <c>--mqtt</c>).</summary>
public static class CloudHostingExtensions
{
    /// <summary>Command-line switches of the link and the settings they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--mqtt"] = "Mqtt:Url",
        ["--device-id"] = "Mqtt:DeviceId",
        ["--mqtt-protocol"] = "Mqtt:Protocol",
        ["--mqtt-username"] = "Mqtt:Username",
        ["--mqtt-password"] = "Mqtt:Password",
        ["--mqtt-ca"] = "Mqtt:CaFile",
        ["--mqtt-cert"] = "Mqtt:CertFile",
        ["--mqtt-key"] = "Mqtt:KeyFile",
        ["--telemetry-interval"] = "Mqtt:TelemetryInterval",
    };

    public static string DeviceIdOf(MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.DeviceId) ? Environment.MachineName : options.DeviceId;
    }

    public static WebApplicationBuilder AddMqttLink(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<MqttOptions>().Bind(builder.Configuration.GetSection(MqttOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MqttOptions>, MqttOptionsValidator>();
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{MqttOptions.Section}:Url"]))
        {
            return builder;
        }

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MqttOptions>>().Value);
        services.AddSingleton(sp =>
        {
            var agent = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            PrivateFiles.CreateDirectory(agent.Data);
            var path = Path.Combine(Path.GetFullPath(agent.Data), "outbox.db");
            return AgentHostingExtensions.OpenOrMoveAside(sp, path, "EdgeInference.Agent.Cloud.Outbox",
                () => new OutboxStore(sp.GetRequiredService<MqttOptions>().Outbox, () => DurableLiteDatabase.Open(path), sp.GetRequiredService<TimeProvider>()));
        });
        services.AddSingleton(_ => new HardwareProbe());
        services.AddSingleton(sp => new StatusReporter(
            DeviceIdOf(sp.GetRequiredService<MqttOptions>()), sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<AgentInfo>(),
            sp.GetRequiredService<OnnxRuntimeEnvironment>(), sp.GetRequiredService<HardwareProbe>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<InstalledPackages>(), sp.GetService<CommandReporter>(), sp.GetRequiredService<DeviceSettings>(), sp.GetService<DeviceTrust>(), sp.GetService<SensorHub>()));
        services.AddSingleton(sp => new MqttLink(
            sp.GetRequiredService<MqttOptions>(), sp.GetRequiredService<StatusReporter>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<MqttLink>>()));
        services.AddSingleton(sp => new TelemetryCollector(
            DeviceIdOf(sp.GetRequiredService<MqttOptions>()), sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<OutboxStore>(),
            sp.GetService<PredictionLogStore>(), sp.GetRequiredService<HardwareProbe>(), sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<InstalledPackages>(), sp.GetService<SensorHub>()));

        // Stopped in reverse: telemetry, then forwarding, then the link says offline, then the outbox drains.
        services.AddHostedService(sp => new DurableLogService<OutboxMessage>(
            sp.GetRequiredService<OutboxStore>(), "outbox", sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeInference.Agent.Cloud.Outbox")));
        services.AddHostedService<MqttLinkService>();
        services.AddSingleton(sp => new ForwardingService(
            sp.GetRequiredService<MqttLink>(), sp.GetRequiredService<OutboxStore>(), sp.GetService<PredictionLogStore>(), sp.GetRequiredService<MqttOptions>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ForwardingService>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ForwardingService>());
        services.AddHostedService<TelemetryService>();
        return builder;
    }
}
