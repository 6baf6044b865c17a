using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeInference.Contracts;
using EdgeInference.Fleet.Api;
using EdgeInference.Packaging;

namespace EdgeInference.Fleet.Cli;

/// <summary>
/// The fleet's REST API as typed calls over the shared contract (<c>EdgeInference.Fleet.Api</c>): requests and responses
/// are its records, serialized by its source-generated context; errors are <see cref="FleetApiException"/> with the
/// fleet's message.
/// </summary>
public sealed class FleetClient : IDisposable
{
    private static readonly FleetApiJsonContext Json = FleetApiJsonContext.Default;
    private readonly HttpClient _http;

    public FleetClient(string baseUrl, string? token, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/api/v1/");
        _http.Timeout = TimeSpan.FromMinutes(30);
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Task<HealthView> HealthAsync(CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, "health", null, Json.HealthView, cancellationToken);

    public Task<List<DeviceView>> ListDevicesAsync(CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, "devices", null, Json.ListDeviceView, cancellationToken);

    public Task<DeviceView> GetDeviceAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, Device(id), null, Json.DeviceView, cancellationToken);

    /// <summary>Sets tags (a null or empty value removes the tag).</summary>
    public Task<DeviceView> TagAsync(string id, Dictionary<string, string?> tags, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, Device(id) + "/tags", Body(tags, Json.DictionaryStringString), Json.DeviceView, cancellationToken);

    public Task<Enrollment> EnrollAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, Device(id) + "/enroll", null, Json.Enrollment, cancellationToken);

    public Task<DeviceView> RevokeAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, Device(id) + "/revoke", null, Json.DeviceView, cancellationToken);

    public Task<CommandView> SendCommandAsync(string id, CommandRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Device(id) + "/commands", Body(request, Json.CommandRequest), Json.CommandView, cancellationToken);

    public Task<CommandView> ConfigureAsync(string id, DesiredConfiguration configuration, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, Device(id) + "/configuration", Body(configuration, Json.DesiredConfiguration), Json.CommandView, cancellationToken);

    public Task<CommandView> GetCommandAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "commands/" + Uri.EscapeDataString(id), null, Json.CommandView, cancellationToken);

    /// <summary>Uploads one file of a package not yet sealed (<paramref name="content"/> is streamed).</summary>
    public Task<FileUploaded> UploadAsync(string name, string version, string file, HttpContent content, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"{Package(name, version)}/files/{Uri.EscapeDataString(file)}", content, Json.FileUploaded, cancellationToken);

    /// <summary>Seals a package whose files are uploaded with its signed manifest.</summary>
    public Task<PackageView> SealAsync(string name, string version, SignedManifest signed, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Package(name, version), Body(signed, Json.SignedManifest), Json.PackageView, cancellationToken);

    public Task<List<PackageView>> ListPackagesAsync(CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, "packages", null, Json.ListPackageView, cancellationToken);

    public Task<PackageView> GetPackageAsync(string name, string version, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, Package(name, version), null, Json.PackageView, cancellationToken);

    /// <summary>Sends a benchmark of the package to the devices the request's target picks; one command each.</summary>
    /// <summary>Copies one of a package's files from the fleet into <paramref name="destination"/>.</summary>
    public async Task DownloadFileAsync(string name, string version, string file, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync($"{Package(name, version)}/files/{Uri.EscapeDataString(file)}", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new FleetUnreachableException($"cannot reach the fleet at {_http.BaseAddress}: {ex.Message}", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new FleetApiException((int)response.StatusCode, ErrorOf(text) ?? $"{(int)response.StatusCode} {response.ReasonPhrase}");
            }

            await response.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<List<CommandView>> StartBenchmarkAsync(string name, string version, BenchmarkRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Package(name, version) + "/benchmarks", Body(request, Json.BenchmarkRequest), Json.ListCommandView, cancellationToken);

    public Task<List<BenchmarkView>> ListBenchmarksAsync(string name, string version, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, Package(name, version) + "/benchmarks", null, Json.ListBenchmarkView, cancellationToken);

    /// <summary>
    /// Sends the benchmark and waits, up to <paramref name="wait"/>, for every device's final answer; returns the
    /// commands it sent as they then stand, by device.
    /// </summary>
    public async Task<List<BenchmarkView>> BenchmarkAsync(string name, string version, BenchmarkRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        var sent = await StartBenchmarkAsync(name, version, request, cancellationToken).ConfigureAwait(false);
        var ids = sent.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        waiting.CancelAfter(wait);
        while (true)
        {
            List<BenchmarkView> mine = [.. (await ListBenchmarksAsync(name, version, cancellationToken).ConfigureAwait(false)).Where(b => ids.Contains(b.CommandId)).OrderBy(b => b.DeviceId, StringComparer.Ordinal)];
            if (mine.All(b => b.Final) || waiting.IsCancellationRequested)
            {
                return mine;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300), waiting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // waited long enough: one last look
            }
        }
    }

    public Task<RolloutView> StartRolloutAsync(RolloutRequest request, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "rollouts", Body(request, Json.RolloutRequest), Json.RolloutView, cancellationToken);

    public Task<List<RolloutView>> ListRolloutsAsync(CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, "rollouts", null, Json.ListRolloutView, cancellationToken);

    public Task<RolloutView> GetRolloutAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, Rollout(id), null, Json.RolloutView, cancellationToken);

    /// <summary>An operator's <c>pause</c>, <c>resume</c>, <c>promote</c>, <c>abort</c> or <c>rollback</c>.</summary>
    public Task<RolloutView> ActAsync(string id, string action, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"{Rollout(id)}/{Uri.EscapeDataString(action)}", null, Json.RolloutView, cancellationToken);

    public Task<SignedTrust> GetTrustAsync(CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, "trust", null, Json.SignedTrust, cancellationToken);

    public Task<TrustPushed> PushTrustAsync(SignedTrust trust, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "trust", Body(trust, Json.SignedTrust), Json.TrustPushed, cancellationToken);

    public void Dispose() => _http.Dispose();

    private static string Device(string id) => "devices/" + Uri.EscapeDataString(id);

    private static string Package(string name, string version) => $"packages/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(version)}";

    private static string Rollout(string id) => "rollouts/" + Uri.EscapeDataString(id);

    private static StringContent Body<T>(T body, JsonTypeInfo<T> type) => new(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json");

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        // A file upload waits for the fleet's go-ahead (100 Continue): a refusal (413, 401, 409) comes before gigabytes are sent.
        request.Headers.ExpectContinue = content is ProgressContent;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new FleetUnreachableException($"cannot reach the fleet at {_http.BaseAddress}: {ex.Message}", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new FleetApiException((int)response.StatusCode, ErrorOf(text) ?? $"{(int)response.StatusCode} {response.ReasonPhrase}");
            }

            try
            {
                return JsonSerializer.Deserialize(text, type) ?? throw new FleetApiException((int)response.StatusCode, $"the fleet answered {method} {path} with an empty body");
            }
            catch (JsonException ex)
            {
                throw new FleetApiException((int)response.StatusCode, $"the fleet's answer to {method} {path} is not a {typeof(T).Name}: {ex.Message}");
            }
        }
    }

    /// <summary>The fleet's message from an error body; null when the body is not one (a proxy's page, say).</summary>
    private static string? ErrorOf(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonSerializer.Deserialize(text, Json.ApiError)?.Error is { Length: > 0 } error ? error : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
