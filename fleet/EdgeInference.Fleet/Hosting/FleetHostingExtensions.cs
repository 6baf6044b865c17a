using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Commands;
using EdgeInference.Fleet.Dashboard;
using EdgeInference.Fleet.Packages;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;
using EdgeInference.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Fleet.Hosting;

/// <summary>Wires the fleet service: options, store, broker, registry, commands, rollouts and the API.</summary>
public static class FleetHostingExtensions
{
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--data"] = "Fleet:Data",
        ["--store"] = "Fleet:Store",
        ["--mqtt-port"] = "Fleet:MqttPort",
        ["--mqtt-bind"] = "Fleet:MqttBind",
        ["--mqtt-tls-port"] = "Fleet:MqttTlsPort",
        ["--tls-cert"] = "Fleet:TlsCertificate",
        ["--tls-key"] = "Fleet:TlsKey",
        ["--mqtt-url"] = "Fleet:MqttUrl",
        ["--mqtt-username"] = "Fleet:MqttUsername",
        ["--mqtt-password"] = "Fleet:MqttPassword",
        ["--broker-admin"] = "Fleet:BrokerAdmin",
        ["--broker-admin-url"] = "Fleet:BrokerAdminUrl",
        ["--mqtt-protocol"] = "Fleet:MqttProtocol",
        ["--amqp-url"] = "Fleet:AmqpUrl",
        ["--public-url"] = "Fleet:PublicUrl",
        ["--operator-token"] = "Fleet:OperatorToken",
        ["--reader-token"] = "Fleet:ReaderToken",
    };

    /// <summary>
    /// The arguments for <c>WebApplication.CreateSlimBuilder</c>: <paramref name="args"/> with the host's reloading of
    /// appsettings.json off. It watches the working directory recursively, and from <c>/</c>, where systemd starts
    /// services, that is every directory of the machine.
    /// </summary>
    public static string[] HostArguments(string[] args) => ["--hostBuilder:reloadConfigOnChange=false", .. args];

    public static WebApplicationBuilder AddFleet(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("Logging:LogLevel:Default", "Information"), new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
        });
        builder.Configuration.AddEnvironmentVariables("EDGE_FLEET_");
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary());
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<FleetOptions>().Bind(builder.Configuration.GetSection(FleetOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FleetOptions>, FleetOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<FleetOptions>>().Value;
            options.PublicUrl ??= DefaultPublicUrl(builder.Configuration["urls"]);
            return options;
        });
        services.ConfigureHttpJsonOptions(json =>
        {
            // The same names as the MQTT contract: snake_case, nulls left out.
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, FleetApiJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, FleetJsonContext.Default);
        });
        services.AddOpenApi("v1");
        services.AddFleetAuthentication();
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);

        services.AddSingleton<IFleetStore>(sp => sp.GetRequiredService<FleetOptions>() is { Store: { Length: > 0 } store }
            ? new PostgresFleetStore(store)
            : new LiteDbFleetStore(Path.Combine(Path.GetFullPath(sp.GetRequiredService<FleetOptions>().Data), "fleet.db")));
        services.AddSingleton<Credentials>();
        services.AddSingleton<FleetCertificate>();
        // HTTPS listeners (--urls https://…) without a certificate of their own use the fleet's.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
            https.ServerCertificateSelector ??= (_, _) => kestrel.ApplicationServices.GetRequiredService<FleetCertificate>().Certificate));
        services.AddSingleton<DownloadTokens>();
        services.AddSingleton(sp => new PackageFiles(sp.GetRequiredService<FleetOptions>().Data));
        services.AddSingleton<DeviceRegistry>();
        var embedded = string.IsNullOrWhiteSpace(builder.Configuration[$"{FleetOptions.Section}:MqttUrl"]);
        if (embedded)
        {
            services.AddSingleton<EmbeddedBroker>();
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBroker>());
        }

        services.AddSingleton<IBrokerAdmin>(sp => sp.GetService<EmbeddedBroker>() as IBrokerAdmin
            ?? sp.GetRequiredService<FleetOptions>().BrokerAdmin switch
            {
                FleetOptions.MosquittoAdmin => new MosquittoDynamicSecurity(sp.GetRequiredService<FleetOptions>(), sp.GetRequiredService<ILogger<MosquittoDynamicSecurity>>()),
                FleetOptions.RabbitMqAdmin => new RabbitMqManagement(sp.GetRequiredService<FleetOptions>(), sp.GetRequiredService<ILogger<RabbitMqManagement>>()),
                _ => new UnmanagedBroker(),
            });
        services.AddSingleton(sp => new FleetMqttClient(
            sp.GetRequiredService<DeviceRegistry>(), sp.GetRequiredService<FleetOptions>(), sp.GetService<EmbeddedBroker>(), sp.GetRequiredService<FleetCertificate>(),
            sp.GetRequiredService<IBrokerAdmin>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FleetMqttClient>>()));
        services.AddHostedService(sp => sp.GetRequiredService<FleetMqttClient>());
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{FleetOptions.Section}:AmqpUrl"]))
        {
            services.AddHostedService<AmqpDeviceEvents>();
        }

        services.AddSingleton<CommandService>();
        services.AddHostedService(sp => sp.GetRequiredService<CommandService>());
        services.AddSingleton<FleetLeader>();
        services.AddHostedService(sp => sp.GetRequiredService<FleetLeader>());
        services.AddSingleton<RolloutEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<RolloutEngine>());
        services.AddSingleton<FleetApi>();
        if (builder.Configuration[$"{FleetOptions.Section}:Store"] is { Length: > 0 } store)
        {
            // Replicas: every dashboard hears of every replica's changes, through PostgreSQL.
            services.AddSingleton<IChangeBus>(sp => new PostgresChangeBus(((PostgresFleetStore)sp.GetRequiredService<IFleetStore>()).DataSource));
            // Charts shared by replicas and kept across restarts; the partitions are made before the first window comes.
            services.AddSingleton(sp =>
            {
                var history = new PostgresTelemetryHistory(((PostgresFleetStore)sp.GetRequiredService<IFleetStore>()).DataSource, sp.GetRequiredService<TimeProvider>());
                history.Maintain(sp.GetRequiredService<FleetOptions>().HistoryRetention);
                return history;
            });
            services.AddSingleton<ITelemetryHistory>(sp => sp.GetRequiredService<PostgresTelemetryHistory>());
            services.AddHostedService<TelemetryHistoryRetention>();
            services.AddSingleton(sp => new FleetChanges(sp.GetRequiredService<IChangeBus>()));
            services.AddHostedService<ChangeBusSender>();
            services.AddSingleton<ChangeBusListener>();
            services.AddHostedService(sp => sp.GetRequiredService<ChangeBusListener>());
        }
        else
        {
            services.AddSingleton(_ => new FleetChanges());
            services.AddSingleton<ITelemetryHistory, TelemetryHistory>();
        }

        services.AddSingleton<FleetMetrics>();
        services.AddSingleton<DashboardApi>();
        return builder;
    }

    public static WebApplication MapFleet(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<FleetOptions>();
        var credentials = app.Services.GetRequiredService<Credentials>();
        SeedTokens(options, credentials, app.Services.GetRequiredService<ILogger<FleetApi>>());
        if (app.Services.GetRequiredService<IBrokerAdmin>() is UnmanagedBroker)
        {
            FleetLog.BrokerUnmanaged(app.Services.GetRequiredService<ILogger<FleetApi>>(), options.MqttUrl!);
        }

        app.UseBadRequestErrors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi("/api/v1/openapi.json").AllowAnonymous();
        app.Services.GetRequiredService<FleetApi>().Map(app);
        app.Services.GetRequiredService<DashboardApi>().Map(app);
        return app;
    }

    /// <summary>The configured tokens, and on first start a generated operator token in <c>&lt;data&gt;/operator.token</c> (mode 600).</summary>
    private static void SeedTokens(FleetOptions options, Credentials credentials, ILogger logger)
    {
        PrivateFiles.CreateDirectory(options.Data);
        var file = Path.Combine(Path.GetFullPath(options.Data), "operator.token");
        if (!File.Exists(file))
        {
            var token = Credentials.NewSecret();
            PrivateFiles.WriteNew(file, token + Environment.NewLine);

            credentials.Add(token, Roles.Operator, "admin");
            FleetLog.OperatorTokenWritten(logger, file);
        }

        if (!string.IsNullOrEmpty(options.OperatorToken))
        {
            credentials.Add(options.OperatorToken, Roles.Operator, "configured");
        }

        if (!string.IsNullOrEmpty(options.ReaderToken))
        {
            credentials.Add(options.ReaderToken, Roles.Reader, "configured");
        }
    }

    private static string DefaultPublicUrl(string? urls)
    {
        var first = (urls ?? "http://127.0.0.1:5000").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        return first.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal);
    }
}
