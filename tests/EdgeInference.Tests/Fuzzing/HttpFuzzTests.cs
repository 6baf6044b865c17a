using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using EdgeInference.Runtime.Tensors;
using EdgeInference.Testing;
using EdgeInference.Testing.Fuzzing;
using EdgeInference.Testing.Onnx;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Tests.Fuzzing;

/// <summary>
/// HTTP fuzzing of both services from their own route tables (and, for the fleet, its OpenAPI document): every endpoint
/// gets mutated bodies and hostile path values. No answer may be a 5xx, every 4xx is JSON naming the problem, and each
/// service still serves afterwards. <c>EDGE_FUZZ_ITERATIONS</c> sets the requests per service (2 000 by default).
/// </summary>
public sealed class HttpFuzzTests
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("EDGE_FUZZ_ITERATIONS"), out var iterations) ? iterations : 2000;

    private static readonly string[] Hostile =
        ["x", "floats", "1", "0", "-1", "99999999999999999999", "..", "%2e%2e", "a%00b", "%ff%fe", "é", new string('m', 300), "%20", "scorer", "1.0.0", "model.onnx", "pause"];

    private static readonly Gen<Mutations.Step[]> Steps =
        Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1], Gen.Int[0, 64], Gen.Int[0, 1000], Gen.Byte, (kind, at, length, token, value) => new Mutations.Step(kind, at, length, token, value))
            .Array[0, 3];

    [Fact]
    public async Task TheAgent_UnderFuzzedRequestsToEveryRoute_NeverAnswers5xx_AndStillServes()
    {
        var models = GeneratedModels.Repository(("floats", 1, OnnxModelBuilder.Identity(TensorDataType.Fp32, [-1, -1]), null));
        try
        {
            await using var agent = await AgentHost.StartAsync(models);
            var routes = Routes(agent.App.Services);
            Assert.Contains(routes, r => r.Pattern == "/v2/models/{name}/infer");
            byte[][] bodies =
            [
                Encoding.UTF8.GetBytes("""{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}"""),
                Encoding.UTF8.GetBytes("""{"instances":[[1,2]]}"""),
                Encoding.UTF8.GetBytes("""{"inputs":{"x":[[1,2]]}}"""),
            ];
            var failures = await FuzzAsync(agent.Http, routes, bodies, null);
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
            Assert.NotEmpty(await V2Client.InferJsonAsync(agent.Http, "floats", [NamedTensor.Floats("x", [1, 2], [1, 2])]));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task TheFleet_UnderFuzzedRequestsToEveryRouteOfItsOpenApiDocument_NeverAnswers5xx_AndStillServes()
    {
        await using var fleet = await FleetHost.StartAsync();
        await fleet.EnrollAsync("x");
        var routes = Routes(fleet.App.Services);
        using var http = new HttpClient { BaseAddress = new Uri(fleet.Url) };
        var document = JsonNode.Parse(await http.GetStringAsync(new Uri("/api/v1/openapi.json", UriKind.Relative)))!;
        var documented = document["paths"]!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var undocumented = routes.Where(r => r.Pattern.StartsWith("/api/v1/", StringComparison.Ordinal) && r.Pattern != "/api/v1/openapi.json" && !documented.Contains(r.Pattern)).ToList();
        Assert.True(undocumented.Count == 0, "routes missing from the OpenAPI document: " + string.Join(", ", undocumented.Select(r => r.Pattern)));

        byte[][] bodies =
        [
            Encoding.UTF8.GetBytes("""{"model":"m","version":"1.0.0","stages":"1,100%","soak":"5m","gates":["error_rate<=0.01"],"on_no_data":"pass"}"""),
            Encoding.UTF8.GetBytes("""{"site":"lab","ring":""}"""),
            Encoding.UTF8.GetBytes("""{"command":"configure","configuration":{"telemetry_interval_seconds":5}}"""),
            Encoding.UTF8.GetBytes("""{"telemetry_interval_seconds":5,"execution_providers":["CPU"]}"""),
            Encoding.UTF8.GetBytes("""{"trust":"e30=","signatures":[]}"""),
            Encoding.UTF8.GetBytes("""{"manifest":"e30="}"""),
        ];
        var failures = await FuzzAsync(fleet.Http, routes, bodies, FleetHost.OperatorToken);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.NotNull(await fleet.SendAsync(HttpMethod.Get, "devices", null));
    }

    private static async Task<List<string>> FuzzAsync(HttpClient http, List<(string Method, string Pattern)> routes, byte[][] bodies, string? token)
    {
        var failures = new List<string>();
        var gen = Gen.Select(Gen.Int[0, routes.Count - 1], Gen.Int[0, bodies.Length - 1], Steps, Gen.Int[0, Hostile.Length - 1].Array[4]);
        foreach (var (route, body, steps, values) in gen.Array[(int)Iterations].Single())
        {
            var (method, pattern) = routes[route];
            var parameter = 0;
            var path = string.Join("/", pattern.Split('/').Select(segment => segment.StartsWith('{') ? Hostile[values[parameter++ % values.Length]] : segment));
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(http.BaseAddress!, path));
            if (token is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new ByteArrayContent(Mutations.Apply(bodies[body], steps));
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            }
            catch (OperationCanceledException) when (pattern.EndsWith("/events", StringComparison.Ordinal))
            {
                continue; // the event stream answers and stays open
            }

            using (response)
            {
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{method} {path} ({pattern}): {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                else if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.MethodNotAllowed
                    && response.Content.Headers.ContentType?.MediaType == "application/json"
                    && JsonNode.Parse(await response.Content.ReadAsStringAsync())?["error"]?.GetValue<string>() is not { Length: > 0 })
                {
                    failures.Add($"{method} {path}: {(int)response.StatusCode} without an error naming the problem");
                }
            }
        }

        return failures;
    }

    private static List<(string Method, string Pattern)> Routes(IServiceProvider services) =>
        [
            .. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
                .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, "/" + (e.RoutePattern.RawText ?? "").TrimStart('/').Replace("{**", "{", StringComparison.Ordinal))))
                .Distinct(),
        ];
}
