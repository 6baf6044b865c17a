using System.Text.Json;
using EdgeInference.Fleet.Api;
using EdgeInference.Fleet.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeInference.Fleet.Dashboard;

/// <summary>
/// The browser dashboard and what it reads beyond the REST API: its files (embedded in the assembly),
/// <c>/api/v1/whoami</c>, a device's history, the Server-Sent Events feed of changes, and <c>/metrics</c>.
/// </summary>
public sealed class DashboardApi
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".LICENSE"] = "text/plain; charset=utf-8",
    };

    private readonly IFleetStore _store;
    private readonly FleetChanges _changes;
    private readonly ITelemetryHistory _history;
    private readonly FleetMetrics _metrics;
    private readonly TimeProvider _time;

    public DashboardApi(IFleetStore store, FleetChanges changes, ITelemetryHistory history, FleetMetrics metrics, TimeProvider time)
    {
        _store = store;
        _changes = changes;
        _history = history;
        _metrics = metrics;
        _time = time;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The page and its scripts are public: the page asks for a token and sends it with every call.
        app.MapGet("/", () => Results.Redirect("/dashboard/")).AllowAnonymous();
        app.MapGet("/dashboard/{**file}", (string? file) => File(string.IsNullOrEmpty(file) ? "index.html" : file)).AllowAnonymous();

        var read = app.MapGroup("").RequireAuthorization(FleetAuthentication.ReaderPolicy);
        read.MapGet("/metrics", () => Results.Text(_metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        read.MapGet("/api/v1/whoami", (HttpContext context) => Results.Ok(new Dictionary<string, string?>
        {
            ["role"] = context.Role(),
            ["subject"] = context.Subject(),
        }));
        read.MapGet("/api/v1/devices/{id}/history", (string id) =>
            _store.GetDevice(id) is null ? FleetApi.Error(404, $"there is no device '{id}'") : Results.Json(_history.Get(id), FleetJsonContext.Default.DeviceHistory));
        // A route handler (not a bare RequestDelegate), so the OpenAPI document lists it too.
        read.MapGet("/api/v1/events", (HttpContext context, CancellationToken cancellationToken) => StreamAsync(context))
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static IResult File(string file)
    {
        // Embedded resources are a flat set of names: nothing outside the dashboard can be reached.
        return typeof(DashboardApi).Assembly.GetManifestResourceStream("dashboard/" + file) is { } stream
            ? Results.Stream(stream, ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream"))
            : FleetApi.Error(404, $"the dashboard has no file '{file}'");
    }

    /// <summary>Server-Sent Events: one <c>device</c> or <c>rollout</c> event per change (data: kind and id), and a comment as heartbeat.</summary>
    private async Task StreamAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var changes = _changes.Subscribe(cancellationToken);
        try
        {
            await response.WriteAsync("retry: 2000\n: connected\n\n", cancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                beat.CancelAfter(Heartbeat);
                FleetChange? change = null;
                try
                {
                    change = await changes.ReadAsync(beat.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }

                var text = change is null
                    ? ": heartbeat\n\n"
                    : $"event: {change.Kind}\ndata: {JsonSerializer.Serialize(change, FleetJsonContext.Default.FleetChange)}\n\n";
                await response.WriteAsync(text, cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The browser went away.
        }
    }
}
