using System.Buffers;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Protocols;

/// <summary>TF Serving's v1 REST API: <c>POST /v1/models/{name}[/versions/{v}]:predict</c> and <c>GET /v1/models/{name}</c>.</summary>
internal sealed class TfServingHttpApi
{
    private readonly ModelRepository _models;
    private readonly PinnedBufferPool _pool;
    private readonly ResponseBufferPool _responses;
    private readonly PredictionRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly long _maxBody;

    public TfServingHttpApi(ModelRepository models, PinnedBufferPool pool, ResponseBufferPool responses, PredictionRecorder recorder, TimeProvider time, IOptions<AgentOptions> options)
    {
        _models = models;
        _pool = pool;
        _responses = responses;
        _recorder = recorder;
        _time = time;
        _maxBody = options.Value.MaxRequestBodyBytes;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models/{**path}", StatusAsync);
        app.MapPost("/v1/models/{**path}", PredictAsync);
    }

    /// <summary>Splits <c>name[/versions/N][:verb]</c>.</summary>
    private static (string Name, string? Version, string? Verb) Parse(string path)
    {
        string? verb = null;
        var colon = path.LastIndexOf(':');
        if (colon >= 0)
        {
            verb = path[(colon + 1)..];
            path = path[..colon];
        }

        var parts = path.Split('/');
        return parts switch
        {
            [var name] => (name, null, verb),
            [var name, "versions", var version] => (name, version, verb),
            _ => throw new InferenceException(InferenceErrorKind.NotFound, $"'/v1/models/{path}' is not a TF Serving path; use /v1/models/NAME[/versions/N][:predict]"),
        };
    }

    private Task StatusAsync(HttpContext context)
    {
        try
        {
            var (name, version, verb) = Parse((string)context.Request.RouteValues["path"]!);
            if (verb is not null || _models.Find(name) is not { } entry)
            {
                throw new InferenceException(InferenceErrorKind.NotFound, $"model '{name}' is not in the repository");
            }

            var buffer = _responses.Rent();
            var json = buffer.Json;
            json.WriteStartObject();
            json.WriteStartArray("model_version_status"u8);
            foreach (var v in entry.Versions)
            {
                if (version is not null && v.VersionText != version)
                {
                    continue;
                }

                json.WriteStartObject();
                json.WriteString("version"u8, v.VersionText);
                json.WriteString("state"u8, v.State switch
                {
                    ModelVersionState.Ready => "AVAILABLE",
                    ModelVersionState.Loading => "LOADING",
                    ModelVersionState.Unloading => "UNLOADING",
                    _ => "END",
                });
                json.WriteStartObject("status"u8);
                json.WriteString("error_code"u8, v.Error is null ? "OK" : "UNKNOWN");
                json.WriteString("error_message"u8, v.Error ?? "");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            return HttpExchange.SendAndReturnAsync(context.Response, _responses, buffer, context.RequestAborted);
        }
        catch (InferenceException ex)
        {
            return HttpExchange.SendErrorAsync(context.Response, _responses, HttpExchange.StatusOf(ex.Kind), ex.Message, context.RequestAborted);
        }
    }

    private async Task PredictAsync(HttpContext context)
    {
        var started = _time.GetTimestamp();
        var cancellationToken = context.RequestAborted;
        byte[]? body = null;
        ModelVersion? model = null;
        try
        {
            var (name, version, verb) = Parse((string)context.Request.RouteValues["path"]!);
            if (verb != "predict")
            {
                throw new InferenceException(InferenceErrorKind.NotFound, $"':{verb}' is not supported; the agent serves ':predict'");
            }

            model = _models.Acquire(name, version);
            (body, var length) = await HttpExchange.ReadBodyAsync(context.Request, _maxBody, cancellationToken).ConfigureAwait(false);
            using var request = TfServingCodec.Read(body.AsSpan(0, length), model, _pool, out var rows);
            using var response = await model.InferAsync(request, cancellationToken).ConfigureAwait(false);
            if (_recorder.BeforeReply)
            {
                await _recorder.RecordDurablyAsync(request, response, "v1-http", started, cancellationToken).ConfigureAwait(false);
            }

            var buffer = _responses.Rent();
            try
            {
                TfServingCodec.Write(buffer.Json, response, rows);
                await HttpExchange.SendAsync(context.Response, buffer, "application/json", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _responses.Return(buffer);
            }

            if (!_recorder.BeforeReply)
            {
                _recorder.Record(request, response, "v1-http", started);
            }
        }
        catch (InferenceException ex)
        {
            await HttpExchange.SendErrorAsync(context.Response, _responses, HttpExchange.StatusOf(ex.Kind), ex.Message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }

            model?.Release();
        }
    }
}
