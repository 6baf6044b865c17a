using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.Diagnostics;
using EdgeInference.Agent.Drift;
using EdgeInference.Agent.Gpio;
using EdgeInference.Agent.Grpc;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Agent.Protocols;
using EdgeInference.Agent.Sensors;
using EdgeInference.Agent.Settings;
using EdgeInference.Agent.Updates;
using EdgeInference.Storage;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using LiteDB;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Hosting;

/// <summary>Wires the agent into a web application: configuration, services, listeners and endpoints.</summary>
public static class AgentHostingExtensions
{
    /// <summary>Command-line switches and the settings they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--models"] = "Agent:Models",
        ["--data"] = "Agent:Data",
        ["--urls"] = "Agent:Urls",
        ["--grpc"] = "Agent:Grpc",
        ["--poll-interval"] = "Agent:PollInterval",
        ["--max-body"] = "Agent:MaxRequestBodyBytes",
    };

    /// <summary>
    /// The arguments for <c>WebApplication.CreateSlimBuilder</c>: all but <c>--urls</c>, which the agent
    /// applies itself (Agent:Urls), so the host does not also read it as its own "urls" setting. They also turn off
    /// the host's reloading of appsettings.json: it watches the whole content root, the working directory, with a
    /// recursive FileSystemWatcher, and under systemd that is <c>/</c>, every directory of the device (44 700 inotify
    /// watches and 1.7–4.9 s before ready on the development VM).
    /// </summary>
    public static string[] HostArguments(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var kept = new List<string>(args.Length + 1) { "--hostBuilder:reloadConfigOnChange=false" };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--urls")
            {
                i++;
            }
            else if (!args[i].StartsWith("--urls=", StringComparison.Ordinal))
            {
                kept.Add(args[i]);
            }
        }

        return kept.ToArray();
    }

    public static WebApplicationBuilder AddEdgeAgent(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Defaults under every other source: ASP.NET Core's per-request logs are off unless configured. With its hosting
        // category enabled at any level, ASP.NET Core starts an Activity and a logging scope for every request
        // (about 800 bytes and two execution-context copies a request) only so that its logs could carry a trace id.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData =
            [
                new("Logging:LogLevel:Default", "Information"),
                new("Logging:LogLevel:Microsoft.AspNetCore", "Warning"),
                new("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "None"),
            ],
        });
        var configFiles = ConfigFiles.Add(builder.Configuration, args);
        builder.Configuration.AddEnvironmentVariables("EDGE_AGENT_");
        builder.Configuration.AddCommandLine(args, SwitchMappings.Concat(CloudHostingExtensions.SwitchMappings).Concat(DriftHostingExtensions.SwitchMappings).Concat(UpdateHostingExtensions.SwitchMappings).ToDictionary());
        builder.Host.UseSystemd();
        var recentLogs = new RecentLogs(1000, TimeProvider.System);
        builder.Logging.AddProvider(recentLogs);
        builder.Services.AddSingleton(recentLogs);
        builder.Services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(configFiles);
        services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = builder.Configuration.GetValue("Agent:ShutdownTimeout", TimeSpan.FromSeconds(10)));

        services.AddSingleton<PinnedBufferPool>();
        services.AddSingleton<OnnxRuntimeEnvironment>(_ => new());
        services.AddSingleton(sp => new DeviceSettings(
            sp.GetRequiredService<IOptions<AgentOptions>>().Value.Data, sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeInference.Agent.Settings")));
        services.AddSingleton(sp =>
        {
            // The fleet's provider preference (configure) applies from the first load, and reloads the models when it changes.
            var settings = sp.GetRequiredService<DeviceSettings>();
            var selector = new ExecutionProviderSelector(sp.GetRequiredService<OnnxRuntimeEnvironment>().AvailableProviders) { DevicePreference = settings.Current.ExecutionProviders };
            settings.Changed += applied => selector.DevicePreference = applied.ExecutionProviders;
            return selector;
        });
        services.AddSingleton(sp =>
        {
            var agent = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var onnxRuntime = sp.GetRequiredService<OnnxRuntimeEnvironment>();
            return new ModelRuntimeContext(
                sp.GetRequiredService<PinnedBufferPool>(), sp.GetRequiredService<ExecutionProviderSelector>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>(), onnxRuntime)
            {
                OptimizedModels = agent.OptimizedModelCache && agent.Data.Length > 0 ? new OptimizedModelCache(Path.Combine(Path.GetFullPath(agent.Data), "ortcache"), () => onnxRuntime.Version) : null,
            };
        });
        services.AddSingleton(sp => new ModelRepository(
            Path.GetFullPath(sp.GetRequiredService<IOptions<AgentOptions>>().Value.Models), sp.GetRequiredService<ModelRuntimeContext>()));
        if (builder.Configuration.GetValue("Agent:PredictionLog:Enabled", true))
        {
            services.AddSingleton(OpenPredictionLog);
            services.AddHostedService(sp => new DurableLogService<PredictionRecord>(
                sp.GetRequiredService<PredictionLogStore>(), "prediction log", sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeInference.Agent.PredictionLog")));
        }

        services.AddSingleton<PredictionRecorder>();
        services.AddSingleton<ResponseBufferPool>();
        services.AddSingleton<AgentInfo>();
        services.AddSingleton<V2HttpApi>();
        services.AddSingleton<TfServingHttpApi>();
        services.AddSingleton<PrometheusExporter>();
        builder.AddUpdateRecovery(); // before the repository's first load
        services.AddHostedService<ModelRepositoryService>();
        services.AddHostedService<SystemdWatchdogService>();
        builder.AddSensors(); // before the MQTT link: the first status says which sensors answer
        builder.AddMqttLink();
        builder.AddDriftStatistics();
        builder.AddGpio();
        builder.AddUpdates();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, builder.Configuration.GetValue("Agent:MaxRequestBodyBytes", 64L << 20));
            grpc.MaxSendMessageSize = null;
        });

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = new AgentOptions();
            context.Configuration.GetSection(AgentOptions.Section).Bind(options);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            try
            {
                foreach (var address in ListenAddress.ParseHttp(options.Urls))
                {
                    Listen(kestrel, address, HttpProtocols.Http1);
                }

                if (!string.IsNullOrWhiteSpace(options.Grpc))
                {
                    Listen(kestrel, ListenAddress.ParseGrpc(options.Grpc), HttpProtocols.Http2);
                }
            }
            catch (FormatException)
            {
                // AgentOptionsValidator reports it, with every other bad setting, before anything listens.
            }
        });
        return builder;
    }

    public static WebApplication MapEdgeAgent(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<V2HttpApi>().Map(app);
        app.Services.GetRequiredService<TfServingHttpApi>().Map(app);
        app.Services.GetRequiredService<PrometheusExporter>().Map(app);
        app.MapGrpcService<InferenceGrpcService>();
        return app;
    }

    private static void Listen(KestrelServerOptions kestrel, ListenAddress address, HttpProtocols protocols)
    {
        if (address.UnixSocketPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (File.Exists(path))
            {
                File.Delete(path); // a stale socket from an earlier run
            }

            kestrel.ListenUnixSocket(path, listen => listen.Protocols = protocols);
        }
        else if (address.AnyAddress)
        {
            kestrel.ListenAnyIP(address.Tcp!.Port, listen => listen.Protocols = protocols);
        }
        else if (address.Localhost)
        {
            kestrel.ListenLocalhost(address.Tcp!.Port, listen => listen.Protocols = protocols);
        }
        else
        {
            kestrel.Listen(address.Tcp!, listen => listen.Protocols = protocols);
        }
    }

    private static PredictionLogStore OpenPredictionLog(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        PrivateFiles.CreateDirectory(options.Data);
        var path = Path.Combine(Path.GetFullPath(options.Data), "predictions.db");
        return OpenOrMoveAside(services, path, "EdgeInference.Agent.PredictionLog",
            () => new PredictionLogStore(options.PredictionLog, () => DurableLiteDatabase.Open(path), services.GetRequiredService<TimeProvider>()));
    }

    /// <summary>
    /// Opens one of the agent's databases; one that cannot be read is kept beside it as <c>{path}.corrupt-{time}</c>
    /// (with its journal) and a new one starts, so a damaged file never stops the agent from serving.
    /// </summary>
    internal static T OpenOrMoveAside<T>(IServiceProvider services, string path, string category, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception ex) when (DurableLiteDatabase.IsUnreadable(ex))
        {
            var moved = $"{path}.corrupt-{services.GetRequiredService<TimeProvider>().GetUtcNow():yyyyMMddHHmmss}";
            File.Move(path, moved);
            if (File.Exists(path + ".journal"))
            {
                File.Move(path + ".journal", moved + ".journal");
            }

            AgentLog.DatabaseMovedAside(services.GetRequiredService<ILoggerFactory>().CreateLogger(category), path, ex.Message, moved);
            return open();
        }
    }
}
