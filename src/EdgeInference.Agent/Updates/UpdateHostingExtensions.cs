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

/// <summary>Adds the update client: commands from the fleet, signed packages, staged installs, probation and rollback, benchmarks of packages (only with <c>--mqtt</c>).</summary>
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
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{MqttOptions.Section}:Url"]))
        {
            return builder;
        }

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<UpdateOptions>>().Value);
        services.AddSingleton<ShadowTap>();
        services.AddSingleton<IPredictionObserver>(sp => sp.GetRequiredService<ShadowTap>());
        services.AddSingleton(sp => new CommandReporter(
            CloudHostingExtensions.DeviceIdOf(sp.GetRequiredService<MqttOptions>()), sp.GetRequiredService<OutboxStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateStateStore(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data));
        services.AddSingleton(sp => new DeviceTrust(sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<UpdateStateStore>().Directory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateInstaller(
            sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<ModelRuntimeContext>(), sp.GetRequiredService<InstalledPackages>(), sp.GetRequiredService<UpdateOptions>()));
        services.AddSingleton(sp => new PackageDownloader(
            new HttpClient(FleetTrust.DownloadHandler(sp.GetRequiredService<MqttOptions>())) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new UpdateService(
            sp.GetRequiredService<UpdateInstaller>(), sp.GetRequiredService<UpdateStateStore>(), sp.GetRequiredService<PackageDownloader>(),
            sp.GetRequiredService<CommandReporter>(), sp.GetRequiredService<ModelRepository>(), sp.GetRequiredService<PinnedBufferPool>(), sp.GetRequiredService<ShadowTap>(),
            sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<DeviceTrust>(), sp.GetRequiredService<AgentInfo>().Version,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<UpdateService>>()));
        services.AddSingleton(sp => new LocalPackageInbox(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data, sp.GetRequiredService<UpdateService>(), sp.GetRequiredService<CommandReporter>(),
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.PollInterval, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalPackageInbox>>()));
        services.AddSingleton(sp => new BenchmarkService(
            sp.GetRequiredService<DeviceTrust>(),
            new PackageDownloader(
                new HttpClient(FleetTrust.DownloadHandler(sp.GetRequiredService<MqttOptions>())) { Timeout = Timeout.InfiniteTimeSpan },
                sp.GetRequiredService<UpdateOptions>(), sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<CommandReporter>(), sp.GetRequiredService<ModelRuntimeContext>(), sp.GetRequiredService<PinnedBufferPool>(),
            Path.Combine(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data, "benchmarks"), sp.GetRequiredService<ILogger<BenchmarkService>>()));
        services.AddHostedService<UpdateRecoveryService>();
        return builder;
    }

    /// <summary>Starts the update loop and the command dispatcher, after the MQTT link and its outbox.</summary>
    public static WebApplicationBuilder AddUpdates(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{MqttOptions.Section}:Url"]))
        {
            return builder;
        }

        builder.Services.AddHostedService(sp => sp.GetRequiredService<UpdateService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BenchmarkService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalPackageInbox>());
        builder.Services.AddHostedService<CommandDispatcher>();
        return builder;
    }
}
