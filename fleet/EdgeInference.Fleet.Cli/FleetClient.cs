using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeInference.Fleet.Cli;

/// <summary>The fleet's REST API as the CLI uses it: JSON in and out, errors as <see cref="FleetApiException"/> with the fleet's message.</summary>
public sealed class FleetClient : IDisposable
{
    private readonly HttpClient _http;

    public FleetClient(string baseUrl, string? token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/api/v1/");
        _http.Timeout = TimeSpan.FromMinutes(30);
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode?> PostAsync(string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body is null ? null : Json(body), cancellationToken);

    public Task<JsonNode?> PatchAsync(string path, JsonNode body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Patch, path, Json(body), cancellationToken);

    public Task<JsonNode?> PutAsync(string path, HttpContent content, CancellationToken cancellationToken) => SendAsync(HttpMethod.Put, path, content, cancellationToken);

    public Task<JsonNode?> PutAsync(string path, JsonNode body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Put, path, Json(body), cancellationToken);

    public void Dispose() => _http.Dispose();

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
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
            JsonNode? body = null;
            try
            {
                body = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // Not JSON: the status line says what happened.
            }

            if (!response.IsSuccessStatusCode)
            {
                var message = body?["error"]?.GetValue<string>() ?? $"{(int)response.StatusCode} {response.ReasonPhrase}";
                throw new FleetApiException((int)response.StatusCode, message);
            }

            return body;
        }
    }
}
