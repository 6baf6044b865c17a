using EdgeInference.Agent.Benchmarks;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.Commands;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Shadow;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// Adds the update client: commands from the fleet, signed packages, staged installs, probation and rollback,
/// benchmarks of packages (with <c>--mqtt</c>), and packages from local media (<see cref="LocalPackageInbox"/>: with a
/// fleet link, or on a device with no fleet at all but trusted keys).
/// </summary>
public static class UpdateHostingExtensions
{
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--trusted-keys"] = "Updates:TrustedKeys",
        ["--root-keys"] = "Updates:RootKeys",
    };

    /// <summary>Registers the update client and, first of all hosted services, its recovery (which must run before the models load).</summary>
    public static WebApplicationBuilder AddUpdateRecovery(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddSingleton(sp => new InstalledPackages(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Models));
        services.AddOptions<UpdateOptions>().Bind(builder.Configuration.GetSection(UpdateOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<UpdateOptions>, UpdateOptionsValidator>();
        var fleetLink = HasFleetLink(builder);
        if (!fleetLink && !HasTrustedKeys(builder))
        {
            return builder;
        }

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<UpdateOptions>>().Value);
        services.AddSingleton<ShadowTap>();
        services.AddSingleton<IPredictionObserver>(sp => sp.GetRequiredService<ShadowTap>());
        // Without a fleet link the replies have nowhere to go but the local installs' status files.
        services.AddSingleton(sp => fleetLink
            ? new CommandReporter(CloudHostingExtensions.DeviceIdOf(sp.GetRequiredService<MqttOptions>()), sp.GetRequiredService<OutboxStore>(), sp.GetRequiredService<TimeProvider>())
            : new CommandReporter("local", null, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateStateStore(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data));
        services.AddSingleton(sp => new DeviceTrust(sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<UpdateStateStore>().Directory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateInstaller(
            sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<ModelRuntimeContext>(), sp.GetRequiredService<InstalledPackages>(), sp.GetRequiredService<UpdateOptions>()));
        services.AddSingleton(sp => new PackageDownloader(
            new HttpClient(FleetTrust.DownloadHandler(fleetLink ? sp.GetRequiredService<MqttOptions>() : null)) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateService(
            sp.GetRequiredService<UpdateInstaller>(), sp.GetRequiredService<UpdateStateStore>(), sp.GetRequiredService<PackageDownloader>(),
            sp.GetRequiredService<CommandReporter>(), sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<PinnedBufferPool>(), sp.GetRequiredService<ShadowTap>(),
            sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<DeviceTrust>(), sp.GetRequiredService<AgentInfo>().Version,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<UpdateService>>()));
        services.AddSingleton(sp => new LocalPackageInbox(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data, sp.GetRequiredService<UpdateService>(), sp.GetRequiredService<CommandReporter>(),
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.PollInterval, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalPackageInbox>>()));
        services.AddHostedService<UpdateRecoveryService>();
        if (!fleetLink)
        {
            return builder;
        }

        services.AddSingleton(sp => new BenchmarkService(
            sp.GetRequiredService<DeviceTrust>(),
            new PackageDownloader(
                new HttpClient(FleetTrust.DownloadHandler(sp.GetRequiredService<MqttOptions>())) { Timeout = Timeout.InfiniteTimeSpan },
                sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<CommandReporter>(), sp.GetRequiredService<ModelRuntimeContext>(), sp.GetRequiredService<PinnedBufferPool>(),
            Path.Combine(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data, "benchmarks"), sp.GetRequiredService<ILogger<BenchmarkService>>()));
        return builder;
    }

    /// <summary>Starts the update loop, the local package inbox and (with a fleet link) the command dispatcher, after the MQTT link and its outbox.</summary>
    public static WebApplicationBuilder AddUpdates(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var fleetLink = HasFleetLink(builder);
        if (!fleetLink && !HasTrustedKeys(builder))
        {
            return builder;
        }

        builder.Services.AddHostedService(sp => sp.GetRequiredService<UpdateService>());
        if (fleetLink)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<BenchmarkService>());
        }

        builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalPackageInbox>());
        if (fleetLink)
        {
            builder.Services.AddHostedService<CommandDispatcher>();
        }

        return builder;
    }

    private static bool HasFleetLink(WebApplicationBuilder builder) => !string.IsNullOrWhiteSpace(builder.Configuration[$"{MqttOptions.Section}:Url"]);

    private static bool HasTrustedKeys(WebApplicationBuilder builder) => !string.IsNullOrWhiteSpace(builder.Configuration[$"{UpdateOptions.Section}:TrustedKeys"]);
}
