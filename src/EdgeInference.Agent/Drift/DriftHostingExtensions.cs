using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Settings;
using EdgeInference.Agent.Updates;
using EdgeInference.Runtime.Drift;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Drift;

/// <summary>Adds drift statistics: sketches on the hot path, and windows published to the outbox (or only logged and in /metrics).</summary>
public static class DriftHostingExtensions
{
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--drift-interval"] = $"{DriftOptions.Section}:Interval",
    };

    public static WebApplicationBuilder AddDriftStatistics(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<DriftOptions>().Bind(builder.Configuration.GetSection(DriftOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DriftOptions>, DriftOptionsValidator>();
        services.AddSingleton<DriftMonitor>();
        services.AddSingleton<IPredictionObserver>(sp => sp.GetRequiredService<DriftMonitor>());

        // Registered after the outbox, so it stops first and its last window still goes in.
        services.AddHostedService(sp => new DriftService(
            sp.GetRequiredService<DriftMonitor>(), CloudHostingExtensions.DeviceIdOf(sp.GetRequiredService<IOptions<MqttOptions>>().Value),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DriftService>>(), sp.GetService<OutboxStore>(), sp.GetService<InstalledPackages>(), sp.GetService<DeviceSettings>()));
        return builder;
    }
}
