using System.Globalization;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Broker;
using EdgeInference.Fleet.Commands;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Packages;
using EdgeInference.Fleet.Registry;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;
using EdgeInference.Packaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace EdgeInference.Fleet.Api;

/// <summary>The REST API under <c>/api/v1</c>: devices, packages, rollouts. Errors are JSON bodies naming the problem.</summary>
public sealed class FleetApi
{
    /// <summary>How long a configure command is resent to a silent device before it expires.</summary>
    private static readonly TimeSpan ConfigurationLifetime = TimeSpan.FromDays(7);

    /// <summary>How long a trust command waits for a silent device (deploys carry the document too).</summary>
    private static readonly TimeSpan TrustLifetime = TimeSpan.FromDays(30);

    private readonly IFleetStore _store;
    private readonly DeviceRegistry _registry;
    private readonly Credentials _credentials;
    private readonly PackageFiles _packages;
    private readonly CommandService _commands;
    private readonly RolloutEngine _rollouts;
    private readonly FleetMqttClient _mqtt;
    private readonly FleetOptions _options;
    private readonly FleetCertificate _certificate;
    private readonly TimeProvider _time;
    private readonly IBrokerAdmin _broker;
    private readonly FleetLeader _leader;
    private readonly Microsoft.Extensions.Logging.ILogger<FleetApi> _logger;

    public FleetApi(
        IFleetStore store, DeviceRegistry registry, Credentials credentials, PackageFiles packages, CommandService commands, RolloutEngine rollouts,
        FleetMqttClient mqtt, FleetOptions options, FleetCertificate certificate, TimeProvider time, IBrokerAdmin broker,
        Microsoft.Extensions.Logging.ILogger<FleetApi> logger, FleetLeader leader)
    {
        _leader = leader;
        _broker = broker;
        _logger = logger;
        _certificate = certificate;
        _store = store;
        _registry = registry;
        _credentials = credentials;
        _packages = packages;
        _commands = commands;
        _rollouts = rollouts;
        _mqtt = mqtt;
        _options = options;
        _time = time;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1");
        // role: whether this replica leads (runs the rollout planner) or stands by.
        api.MapGet("/health", () => TypedResults.Ok(new HealthView
            {
                Status = "ok", Mqtt = _mqtt.IsConnected ? "connected" : "disconnected", Role = _leader.IsLeader ? "leader" : "standby",
            }))
            .AllowAnonymous();

        var read = api.MapGroup("").RequireAuthorization(FleetAuthentication.ReaderPolicy);
        var write = api.MapGroup("").RequireAuthorization(FleetAuthentication.OperatorPolicy);
        read.MapGet("/devices", () => TypedResults.Ok(_store.ListDevices().OrderBy(d => d.Id, StringComparer.Ordinal).Select(d => d.ToView()).ToList()));
        read.MapGet("/devices/{id}", (string id) => _store.GetDevice(id) is { } device ? TypedResults.Ok(device.ToView()) : NotFound($"there is no device '{id}'"));
        write.MapPost("/devices/{id}/enroll", EnrollAsync);
        write.MapPost("/devices/{id}/revoke", RevokeAsync);
        write.MapPatch("/devices/{id}/tags", Tag);
        read.MapGet("/devices/{id}/commands", (string id) => TypedResults.Ok(_store.ListCommands(id).Select(c => c.ToView()).ToList()));
        write.MapPost("/devices/{id}/commands", SendCommand);
        write.MapPut("/devices/{id}/configuration", Configure);
        read.MapGet("/commands/{id}", (string id) => _store.GetCommand(id) is { } command ? TypedResults.Ok(command.ToView()) : NotFound($"there is no command '{id}'"));

        read.MapGet("/packages", () => TypedResults.Ok(_store.ListPackages().OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => SemanticVersion.Parse(p.Version)).Select(p => p.ToView()).ToList()));
        read.MapGet("/packages/{name}/{version}", (string name, string version) =>
            _store.GetPackage(name, version) is { } package ? TypedResults.Ok(package.ToView()) : NotFound($"there is no package {name} {version}"));
        write.MapPut("/packages/{name}/{version}/files/{file}", UploadAsync);
        write.MapPost("/packages/{name}/{version}", SealAsync);
        write.MapPost("/packages/{name}/{version}/benchmarks", StartBenchmark);
        read.MapGet("/packages/{name}/{version}/benchmarks", (string name, string version) => TypedResults.Ok(Benchmarks(name, version)));
        api.MapGet("/packages/{name}/{version}/files/{file}", Download).RequireAuthorization(FleetAuthentication.DownloadPolicy);

        read.MapGet("/rollouts", () => TypedResults.Ok(_store.ListRollouts().OrderByDescending(r => r.CreatedAt).Select(View).ToList()));
        read.MapGet("/rollouts/{id}", (string id) => _store.GetRollout(id) is { } rollout ? TypedResults.Ok(View(rollout)) : NotFound($"there is no rollout '{id}'"));
        write.MapPost("/rollouts", StartRolloutAsync);

        read.MapGet("/trust", () => _store.GetTrust() is { } trust ? TypedResults.Ok(trust) : NotFound("no trust document has been pushed"));
        write.MapPut("/trust", PushTrust);
        write.MapPost("/rollouts/{id}/{action}", ActAsync);
    }

    internal static IResult Error(int status, string message) => Results.Json(new ApiError { Error = message }, FleetApiJsonContext.Default.ApiError, statusCode: status);

    private static IResult NotFound(string message) => Error(404, message);

    private async Task<IResult> EnrollAsync(string id, CancellationToken cancellationToken)
    {
        if (!MqttTopics.IsValidDeviceId(id))
        {
            return Error(400, $"'{id}' cannot be a device id: no '/', '+', '#', spaces or control characters, at most 128");
        }

        var secret = _credentials.EnrollDevice(id);
        try
        {
            await _broker.AddDeviceAsync(id, secret, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokerAdminException ex)
        {
            // Not enrolled by halves: a secret the broker does not know would open the API's downloads but no connection.
            _store.DeleteCredentials(Roles.Device, id);
            return Error(502, $"the broker ({_broker.Name}) did not take device '{id}': {ex.Message}");
        }

        var now = _time.GetUtcNow();
        _registry.Update(id, d =>
        {
            d.Enrolled = true;
            d.EnrolledAt = now;
            d.RevokedAt = null;
        });
        var fleetUrl = _options.PublicUrl!;
        var host = new Uri(fleetUrl).Host;
        var mqttUrl = _options.DeviceMqttUrl ?? _options.MqttUrl
            ?? (_options.MqttTlsPort > 0 ? $"mqtts://{host}:{_options.MqttTlsPort}" : $"mqtt://{host}:{_options.MqttPort}");
        return TypedResults.Ok(new Enrollment
        {
            DeviceId = id,
            Secret = secret,
            Username = id,
            ClientId = EmbeddedBroker.DeviceClientPrefix + id,
            MqttUrl = mqttUrl,
            CaPem = mqttUrl.StartsWith("mqtts:", StringComparison.Ordinal) || fleetUrl.StartsWith("https:", StringComparison.Ordinal) ? _certificate.TrustAnchorPem : null,
            FleetUrl = fleetUrl,
        });
    }

    /// <summary>
    /// Revokes a device: its secret stops working everywhere (broker and downloads), it is disconnected, and rollouts
    /// no longer pick it. Enrolling it again gives it a new secret.
    /// </summary>
    private async Task<IResult> RevokeAsync(string id, HttpContext context)
    {
        if (_store.GetDevice(id) is null)
        {
            return NotFound($"there is no device '{id}'");
        }

        _store.DeleteCredentials(Roles.Device, id);
        var now = _time.GetUtcNow();
        var device = _registry.Update(id, d =>
        {
            d.Enrolled = false;
            d.RevokedAt ??= now;
            d.Online = false;
        });
        FleetLog.DeviceRevoked(_logger, id, context.Subject() ?? "an operator");
        try
        {
            await _broker.RemoveDeviceAsync(id, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BrokerAdminException ex)
        {
            return Error(502, $"device '{id}' is revoked here, but the broker ({_broker.Name}) was not told: {ex.Message}; revoke it again to retry");
        }

        return TypedResults.Ok(device.ToView());
    }

    private IResult Tag(string id, Dictionary<string, string?> tags)
    {
        if (_store.GetDevice(id) is null)
        {
            return NotFound($"there is no device '{id}'");
        }

        if (tags.Keys.FirstOrDefault(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal) || k.Contains(',', StringComparison.Ordinal)) is { } bad)
        {
            return Error(400, $"tag key '{bad}' must be non-empty without '=' or ','");
        }

        var device = _registry.Update(id, d =>
        {
            foreach (var (key, value) in tags)
            {
                if (string.IsNullOrEmpty(value))
                {
                    d.Tags.Remove(key);
                }
                else
                {
                    d.Tags[key] = value;
                }
            }
        });
        return TypedResults.Ok(device.ToView());
    }

    private IResult SendCommand(string id, CommandRequest request, HttpContext context)
    {
        if (_store.GetDevice(id) is null)
        {
            return NotFound($"there is no device '{id}'");
        }

        if (!CommandNames.All.Contains(request.Command) || request.Command is CommandNames.Deploy or CommandNames.Trust)
        {
            return Error(400, $"'{request.Command}' is not a command to send by hand (reload, rollback, restart, configure, collect_logs; deploys come from rollouts, trust from PUT /trust)");
        }

        if (request.Command == CommandNames.Rollback && string.IsNullOrEmpty(request.Model))
        {
            return Error(400, "a rollback needs the model");
        }

        if (request.Command == CommandNames.Configure && (request.Configuration is { } configuration ? configuration.Problem() : "a configure command needs 'configuration'") is { } invalid)
        {
            return Error(400, invalid);
        }

        var message = new CommandMessage { Command = request.Command, Model = request.Model, ToVersion = request.ToVersion, Reason = request.Reason ?? $"sent by {context.Subject()}", Configuration = request.Configuration };
        var command = _commands.Create(id, message, null, TimeSpan.FromSeconds(request.TimeoutSeconds ?? 3600));
        return Results.Json(command.ToView(), FleetApiJsonContext.Default.CommandView, statusCode: 202);
    }

    /// <summary>
    /// Sends a <c>benchmark</c> command for a sealed package to every enrolled device the selector picks: each device
    /// downloads and verifies it as for a deploy, times it beside what it serves, and replies with its figures.
    /// </summary>
    private IResult StartBenchmark(string name, string version, BenchmarkRequest request, HttpContext context)
    {
        if (_store.GetPackage(name, version) is not { } package)
        {
            return NotFound($"there is no package {name} {version}");
        }

        var settings = new BenchmarkCommand { Iterations = request.Iterations ?? 100, Warmup = request.Warmup ?? 10 };
        Dictionary<string, string> selector;
        try
        {
            selector = RolloutParser.ParseSelector(request.Target);
        }
        catch (FormatException ex)
        {
            return Error(400, ex.Message);
        }

        if (settings.Problem() is { } problem)
        {
            return Error(400, problem);
        }

        var devices = _store.ListDevices().Where(d => d.Enrolled && d.RevokedAt is null && RolloutParser.Matches(selector, d)).OrderBy(d => d.Id, StringComparer.Ordinal).ToList();
        if (devices.Count == 0)
        {
            return Error(400, $"no enrolled device matches the target '{request.Target}'");
        }

        var url = $"{_options.PublicUrl!.TrimEnd('/')}/api/v1/packages/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(version)}";
        var commands = devices.Select(device => _commands.Create(
            device.Id,
            new CommandMessage
            {
                Command = CommandNames.Benchmark, Model = name, Deploy = new DeployCommand { PackageUrl = url, Package = package.Signed, Trust = _store.GetTrust() },
                Benchmark = settings, Reason = $"sent by {context.Subject()}",
            },
            null,
            TimeSpan.FromMinutes(30)).ToView()).ToList();
        return Results.Json(commands, FleetApiJsonContext.Default.ListCommandView, statusCode: 202);
    }

    /// <summary>Every device's benchmarks of a package, newest first: kept in the devices' command rows.</summary>
    private List<BenchmarkView> Benchmarks(string name, string version) =>
    [
        .. from device in _store.ListDevices()
           from command in _store.ListCommands(device.Id)
           where command.Message.Command == CommandNames.Benchmark && command.Message.Model == name && command.Message.Deploy is { } deploy
                 && ManifestCodec.Parse(Convert.FromBase64String(deploy.Package.Manifest)).Version == version
           let view = command.ToView()
           orderby view.CreatedAt descending
           select new BenchmarkView
           {
               DeviceId = view.DeviceId, CommandId = view.Id, State = view.State, Final = view.Final, CreatedAt = view.CreatedAt,
               Message = view.Replies.LastOrDefault()?.Message, Result = view.Replies.LastOrDefault(r => r.Benchmark is not null)?.Benchmark,
           },
    ];

    /// <summary>
    /// Sets the device's desired configuration (the fields given change, the others stay) and sends it as a
    /// <c>configure</c> command; the device acknowledges with a reply and then reports it in its status.
    /// </summary>
    private IResult Configure(string id, DesiredConfiguration change, HttpContext context)
    {
        if (_store.GetDevice(id) is null)
        {
            return NotFound($"there is no device '{id}'");
        }

        if (change.Problem() is { } problem)
        {
            return Error(400, problem);
        }

        var device = _registry.Update(id, d => d.DesiredConfiguration = change.Over(d.DesiredConfiguration));
        var message = new CommandMessage { Command = CommandNames.Configure, Configuration = device.DesiredConfiguration, Reason = $"sent by {context.Subject()}" };
        var command = _commands.Create(id, message, null, ConfigurationLifetime);
        return Results.Json(command.ToView(), FleetApiJsonContext.Default.CommandView, statusCode: 202);
    }

    private async Task<IResult> UploadAsync(string name, string version, string file, HttpContext context)
    {
        if (PackageFiles.Problem(name, version, file) is { } problem)
        {
            return Error(400, problem);
        }

        if (_store.GetPackage(name, version) is not null)
        {
            return Error(409, $"package {name} {version} exists; versions are immutable, push a new one");
        }

        // Kestrel's own limit (30 MB) is for the rest of the API; a package file may be as large as the fleet allows.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _options.MaxPackageFileBytes;
        }

        if (context.Request.ContentLength > _options.MaxPackageFileBytes)
        {
            return Error(413, $"{file} is {context.Request.ContentLength} bytes, over the {_options.MaxPackageFileBytes} a package file may have");
        }

        try
        {
            var size = await _packages.SaveAsync(name, version, file, context.Request.Body, _options.MaxPackageFileBytes, context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Ok(new FileUploaded { File = file, Size = size });
        }
        catch (InvalidDataException ex)
        {
            return Error(413, ex.Message);
        }
    }

    private async Task<IResult> SealAsync(string name, string version, SignedManifest signed, HttpContext context)
    {
        if (PackageFiles.Problem(name, version, null) is { } problem)
        {
            return Error(400, problem);
        }

        if (_store.GetPackage(name, version) is not null)
        {
            return Error(409, $"package {name} {version} exists; versions are immutable, push a new one");
        }

        PackageManifest manifest;
        try
        {
            manifest = ManifestCodec.Parse(Convert.FromBase64String(signed.Manifest));
        }
        catch (FormatException)
        {
            return Error(400, "manifest is not base64");
        }
        catch (PackageRejectedException ex)
        {
            return Error(400, ex.Message);
        }

        if (manifest.Name != name || manifest.Version != version)
        {
            return Error(400, $"the manifest is for {manifest.Name} {manifest.Version}, not {name} {version}");
        }

        var problems = await _packages.CheckAsync(manifest, context.RequestAborted).ConfigureAwait(false);
        if (problems.Count > 0)
        {
            return Error(400, "the uploaded files do not match the manifest: " + string.Join("; ", problems));
        }

        var package = new PackageRecord { Name = name, Version = version, Signed = signed, Manifest = manifest, PushedAt = _time.GetUtcNow(), PushedBy = context.Subject() };
        _store.SavePackage(package);
        return Results.Json(package.ToView(), FleetApiJsonContext.Default.PackageView, statusCode: 201);
    }

    private IResult Download(string name, string version, string file)
    {
        if (PackageFiles.Problem(name, version, file) is { } problem)
        {
            return Error(400, problem);
        }

        var path = _packages.PathOf(name, version, file);
        if (_store.GetPackage(name, version) is not { } package || !package.Manifest.Files.Any(f => f.Path == file) || !File.Exists(path))
        {
            return NotFound($"package {name} {version} has no file {file}");
        }

        return Results.File(path, "application/octet-stream", enableRangeProcessing: true);
    }

    private async Task<IResult> StartRolloutAsync(RolloutRequest request, HttpContext context)
    {
        RolloutRecord rollout;
        try
        {
            rollout = new RolloutRecord
            {
                Model = request.Model,
                Version = request.Version,
                Target = request.Target ?? "",
                Stages = RolloutParser.ParseStages(request.Stages ?? "1,10%,50%,100%"),
                Soak = RolloutParser.ParseDuration(request.Soak ?? "5m", "soak"),
                Gates = (request.Gates is { Count: > 0 } gates ? gates : DefaultGates(request)).Select(RolloutParser.ParseGate).ToList(),
                Shadow = request.ShadowRequests is { } shadowRequests and not 0 ? new RolloutShadow
                {
                    Requests = shadowRequests,
                    Timeout = RolloutParser.ParseDuration(request.ShadowTimeout ?? "1m", "shadow timeout"),
                    Tolerance = request.ShadowTolerance ?? 0.05,
                } : null,
                OnFailure = request.OnFailure ?? "pause",
                RequireApproval = request.RequireApproval,
                MaxPerMinute = request.MaxPerMinute,
                OfflineTimeout = RolloutParser.ParseDuration(request.OfflineTimeout ?? "10m", "offline timeout"),
                NoDataTimeout = RolloutParser.ParseDuration(request.NoDataTimeout ?? "10m", "no_data_timeout"),
                OnNoData = request.OnNoData ?? RolloutParser.NoDataFails,
                CreatedBy = context.Subject(),
            };
            RolloutParser.ParseSelector(rollout.Target);
        }
        catch (FormatException ex)
        {
            return Error(400, ex.Message);
        }

        if (rollout.Shadow?.ApplyTo(new DeployCommand()).ShadowProblem() is { } shadowProblem)
        {
            return Error(400, shadowProblem);
        }

        if (rollout.OnFailure is not ("pause" or "rollback"))
        {
            return Error(400, $"on_failure '{rollout.OnFailure}' must be pause or rollback");
        }

        if (rollout.MaxPerMinute is { } rate and (< 1 or > RolloutPlanner.MaxDeploysPerMinute))
        {
            return Error(400, $"max_per_minute {rate} must be between 1 and {RolloutPlanner.MaxDeploysPerMinute}");
        }

        if (rollout.OnNoData is not (RolloutParser.NoDataFails or RolloutParser.NoDataPasses))
        {
            return Error(400, $"on_no_data '{rollout.OnNoData}' must be fail or pass");
        }

        try
        {
            var started = await _rollouts.StartAsync(rollout, context.RequestAborted).ConfigureAwait(false);
            return Results.Json(View(started), FleetApiJsonContext.Default.RolloutView, statusCode: 201);
        }
        catch (RolloutException ex)
        {
            return Error(ex.Status, ex.Message);
        }
    }

    /// <summary>
    /// Takes a new signed trust document and sends it to every enrolled device. The fleet checks what it can: the
    /// structure, that it is newer than the one it holds and is signed by enough of that one's root keys (or, for the
    /// first, by enough of its own); each device checks it again against its own roots.
    /// </summary>
    private IResult PushTrust(SignedTrust signed, HttpContext context)
    {
        TrustDocument document;
        try
        {
            var held = _store.GetTrust() is { } current ? TrustCodec.Parse(current) : null;
            document = TrustCodec.Parse(signed);
            TrustCodec.Verify(signed, held?.RootKeys ?? document.RootKeys, held?.Threshold ?? document.Threshold, held?.Version ?? 0, _time.GetUtcNow());
        }
        catch (PackageRejectedException ex)
        {
            return Error(400, $"the trust document is refused ({ex.Reason}): {ex.Message}");
        }

        _store.SaveTrust(signed);
        var sent = 0;
        foreach (var device in _store.ListDevices().Where(d => d.Enrolled))
        {
            var message = new CommandMessage { Command = CommandNames.Trust, Trust = signed, Reason = $"trust version {document.Version}, pushed by {context.Subject()}" };
            _commands.Create(device.Id, message, null, TrustLifetime);
            sent++;
        }

        return TypedResults.Ok(new TrustPushed { Version = document.Version, Devices = sent });
    }

    /// <summary>Installs must succeed; golden vectors must pass when the package has them; shadow agreement when it is asked for.</summary>
    private List<string> DefaultGates(RolloutRequest request)
    {
        var gates = new List<string> { "install_rate>=1" };
        if (_store.GetPackage(request.Model, request.Version)?.Manifest.Files.Any(f => f.Role == PackageRoles.Golden) == true)
        {
            gates.Add("golden_rate>=1");
        }

        if (request.ShadowRequests is > 0)
        {
            gates.Add("agreement>=0.9");
        }

        return gates;
    }

    private async Task<IResult> ActAsync(string id, string action, HttpContext context)
    {
        try
        {
            return TypedResults.Ok(View(await _rollouts.ActAsync(id, action, context.Subject(), context.RequestAborted).ConfigureAwait(false)));
        }
        catch (RolloutException ex)
        {
            return Error(ex.Status, ex.Message);
        }
    }

    private RolloutView View(RolloutRecord rollout) => _rollouts.Read(rollout).ToView(_store.ListEvents(rollout.Id));
}
