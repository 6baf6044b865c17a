using System.Net;
using System.Net.Http.Headers;
using System.Text;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Packages;
using EdgeInference.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Fleet;

/// <summary>
/// The fleet's API matrix: every endpoint the app maps (read from its <see cref="EndpointDataSource"/>, so a new one is
/// covered the day it is added), called with every kind of caller and with the path spelled the ways an attacker would.
/// </summary>
public sealed class ApiAuthorizationTests
{
    /// <summary>Endpoints open to anyone, by design: health, the OpenAPI document and the dashboard's page.</summary>
    private static readonly HashSet<string> Public = ["GET /", "GET /dashboard/{**file}", "GET /api/v1/health", "GET /api/v1/openapi.json"];

    /// <summary>The endpoint a download token opens, for its own package only; a device's MQTT secret opens nothing.</summary>
    private static readonly HashSet<string> DownloadOpens = ["GET /api/v1/packages/{name}/{version}/files/{file}"];

    private static readonly Dictionary<string, string> Samples = new(StringComparer.Ordinal)
    {
        ["id"] = "x", ["name"] = "m", ["version"] = "1.0.0", ["file"] = "model.onnx", ["action"] = "pause",
    };

    [Fact]
    public async Task EveryEndpoint_RefusesCallersWithoutTheRightRole_HoweverItsPathIsSpelled()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "reader-token");
        var deviceSecret = await fleet.EnrollAsync("device-a");
        var endpoints = Endpoints(fleet);
        Assert.Superset(Public, endpoints.Select(e => e.Key).ToHashSet());
        Assert.Superset(DownloadOpens, endpoints.Select(e => e.Key).ToHashSet());
        var tokens = fleet.App.Services.GetRequiredService<DownloadTokens>();
        var expired = new DownloadTokens(new FleetOptions { Data = fleet.Data, DownloadTokenLifetime = TimeSpan.FromSeconds(-1) }, TimeProvider.System);
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} endpoints were found: the walk is broken");

        var callers = new (string Name, string? Authorization, Func<Endpoint, bool> Allowed)[]
        {
            ("anonymous", null, e => Public.Contains(e.Key)),
            ("a wrong token", "Bearer not-a-token", e => Public.Contains(e.Key)),
            ("a non-bearer scheme", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + FleetHost.OperatorToken)), e => Public.Contains(e.Key)),
            ("a reader", "Bearer reader-token", e => Public.Contains(e.Key) || e.Method == "GET"),
            ("a device", "Bearer " + deviceSecret, e => Public.Contains(e.Key)),
            ("a download token", "Bearer " + tokens.Issue(Samples["name"], Samples["version"], "device-a"), e => Public.Contains(e.Key) || DownloadOpens.Contains(e.Key)),
            ("another package's download token", "Bearer " + tokens.Issue(Samples["name"], "9.9.9", "device-a"), e => Public.Contains(e.Key)),
            ("an expired download token", "Bearer " + expired.Issue(Samples["name"], Samples["version"], "device-a"), e => Public.Contains(e.Key)),
            ("a forged download token", "Bearer " + ForgeFrom(tokens.Issue(Samples["name"], "9.9.9", "device-a")), e => Public.Contains(e.Key)),
            ("the operator", "Bearer " + FleetHost.OperatorToken, _ => true),
        };

        var failures = new List<string>();
        var calls = 0;
        foreach (var endpoint in endpoints)
        {
            foreach (var (name, authorization, allowed) in callers)
            {
                if (allowed(endpoint))
                {
                    var status = await CallAsync(fleet.HttpPort, endpoint.Method, endpoint.Path, authorization);
                    calls++;
                    if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    {
                        failures.Add($"{name}: {endpoint.Method} {endpoint.Path} answered {(int)status}, but is allowed");
                    }

                    continue;
                }

                // A caller without a valid token is unauthenticated (401); a valid token without the role is forbidden (403).
                var expected = name is "a reader" or "a device" or "a download token" or "another package's download token" ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
                foreach (var path in Spellings(endpoint.Path))
                {
                    var status = await CallAsync(fleet.HttpPort, endpoint.Method, path, authorization);
                    calls++;
                    if (status != expected)
                    {
                        failures.Add($"{name}: {endpoint.Method} {path} answered {(int)status}, expected {(int)expected}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls were answered wrongly:\n" + string.Join("\n", failures));
        Assert.True(calls > 500, $"only {calls} calls were made");
    }

    [Fact]
    public async Task AnUnauthenticatedEnrollment_WithTheApiPrefixInAnotherCase_NeitherIssuesNorReplacesASecret()
    {
        await using var fleet = await FleetHost.StartAsync();
        var secret = await fleet.EnrollAsync("device-a");
        using var http = new HttpClient { BaseAddress = new Uri(fleet.Url) };

        using var response = await http.PostAsync(new Uri("/API/v1/devices/device-a/enroll", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("bearer token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("device", fleet.App.Services.GetRequiredService<EdgeInference.Fleet.Hosting.Credentials>().Find(secret)?.Role);
    }

    [Fact]
    public async Task Refusals_AreJsonErrorsNamingTheProblem()
    {
        await using var fleet = await FleetHost.StartAsync(null, "--reader-token", "reader-token");
        using var http = new HttpClient { BaseAddress = new Uri(fleet.Url) };

        using var anonymous = await http.GetAsync(new Uri("/api/v1/devices", UriKind.Relative));
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("this API needs a bearer token (Authorization: Bearer …)", await ErrorAsync(anonymous));

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/v1/devices") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } };
        Assert.Equal("the bearer token is not known here", await ErrorAsync(await http.SendAsync(wrong)));

        using var reader = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rollouts") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "reader-token") } };
        using var forbidden = await http.SendAsync(reader);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("a reader token may not POST /api/v1/rollouts", await ErrorAsync(forbidden));
    }

    private static async Task<string?> ErrorAsync(HttpResponseMessage response) =>
        System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())?["error"]?.GetValue<string>();

    /// <summary>A token for the sample package made from one for another: the same MAC over a payload naming a different version.</summary>
    private static string ForgeFrom(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(parts[1]))).Replace("9.9.9", Samples["version"], StringComparison.Ordinal);
        return $"{parts[0]}.{Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}.{parts[2]}";

        static string Pad(string text) => text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (text.Length % 4)) % 4);
    }

    /// <summary>
    /// One request on a raw connection, so the path reaches Kestrel byte for byte (HttpClient would read <c>//api</c> as a
    /// host and unescape <c>%64</c>); only the status line is read, since the event stream never ends.
    /// </summary>
    private static async Task<HttpStatusCode> CallAsync(int port, string method, string path, string? authorization)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var body = method is "POST" or "PUT" or "PATCH" ? "{}" : "";
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        if (authorization is not null)
        {
            head.Append($"Authorization: {authorization}\r\n");
        }

        head.Append(body.Length > 0 ? $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}" : "\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var status = await reader.ReadLineAsync(timeout.Token) ?? throw new IOException($"{method} {path}: the connection closed without an answer");
        return (HttpStatusCode)int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The path as given, and as the router would still match it or an attacker would try it.</summary>
    private static IEnumerable<string> Spellings(string path)
    {
        yield return path;
        yield return path.ToUpperInvariant();
        yield return string.Concat(path.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        yield return path + "/";
        yield return path.Replace("/", "//", StringComparison.Ordinal);
        yield return "/." + path;
        if (path.Length > 1)
        {
            // Every letter of the first segment percent-encoded: Kestrel decodes it before routing.
            var end = path.IndexOf('/', 1) is var slash and > 0 ? slash : path.Length;
            yield return "/" + string.Concat(path[1..end].Select(c => $"%{(int)c:X2}")) + path[end..];
        }
    }

    private static List<Endpoint> Endpoints(FleetHost fleet)
    {
        var endpoints = new List<Endpoint>();
        foreach (var endpoint in fleet.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern;
            var path = "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternParameterPart parameter => Samples.GetValueOrDefault(parameter.Name, "index.html"),
                _ => throw new InvalidOperationException($"an unexpected part in {pattern.RawText}"),
            }))));
            var template = "/" + (pattern.RawText ?? "").TrimStart('/');
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                endpoints.Add(new Endpoint($"{method} {template}", method, path));
            }
        }

        return endpoints;
    }

    private sealed record Endpoint(string Key, string Method, string Path);
}
