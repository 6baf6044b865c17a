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

/// <summary>The Open Inference Protocol v2 (KServe v2) REST API: health, metadata, readiness and infer.</summary>
internal sealed class V2HttpApi
{
    public const string BinaryHeaderName = "Inference-Header-Content-Length";

    private readonly ModelRepository _models;
    private readonly PinnedBufferPool _pool;
    private readonly ResponseBufferPool _responses;
    private readonly PredictionRecorder _recorder;
    private readonly AgentInfo _info;
    private readonly TimeProvider _time;
    private readonly long _maxBody;

    public V2HttpApi(ModelRepository models, PinnedBufferPool pool, ResponseBufferPool responses, PredictionRecorder recorder, AgentInfo info, TimeProvider time, IOptions<AgentOptions> options)
    {
        _models = models;
        _pool = pool;
        _responses = responses;
        _recorder = recorder;
        _info = info;
        _time = time;
        _maxBody = options.Value.MaxRequestBodyBytes;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/health/live", context => SendStatusAsync(context, true, "live"));
        app.MapGet("/v2/health/ready", context => SendStatusAsync(context, _models.IsInitialized, "ready"));
        app.MapGet("/v2", ServerMetadataAsync);
        app.MapGet("/v2/models/{name}", ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/versions/{version}", ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/ready", ModelReadyAsync);
        app.MapGet("/v2/models/{name}/versions/{version}/ready", ModelReadyAsync);
        app.MapPost("/v2/models/{name}/infer", InferAsync);
        app.MapPost("/v2/models/{name}/versions/{version}/infer", InferAsync);
    }

    /// <summary>Writes a model's metadata object (the protocol's fields plus the execution provider and state).</summary>
    internal static void WriteModelMetadata(System.Text.Json.Utf8JsonWriter json, ModelEntry entry, ModelVersion? version)
    {
        json.WriteStartObject();
        json.WriteString("name"u8, entry.Name);
        json.WriteStartArray("versions"u8);
        foreach (var v in entry.Versions)
        {
            if (v.State == ModelVersionState.Ready)
            {
                json.WriteStringValue(v.VersionText);
            }
        }

        json.WriteEndArray();
        json.WriteString("platform"u8, "onnxruntime_onnx"u8);
        if (version is not null)
        {
            WriteTensors(json, "inputs"u8, version.Inputs);
            WriteTensors(json, "outputs"u8, version.Outputs);
            json.WriteString("version"u8, version.VersionText);
            json.WriteString("state"u8, version.State.ToString().ToUpperInvariant());
            if (version.Error is not null)
            {
                json.WriteString("error"u8, version.Error);
            }

            json.WriteString("execution_provider"u8, version.ExecutionProvider);
            WriteStrings(json, "execution_provider_notes"u8, version.ExecutionProviderNotes);
            json.WriteString("threading"u8, version.Threading);
            json.WriteBoolean("batching"u8, version.IsBatching);
            json.WriteBoolean("cache"u8, version.IsCaching);
            WriteStrings(json, "notes"u8, version.Notes);
        }

        if (entry.ConfigError is not null)
        {
            json.WriteString("config_error"u8, entry.ConfigError);
        }

        json.WriteEndObject();
    }

    private static void WriteTensors(System.Text.Json.Utf8JsonWriter json, ReadOnlySpan<byte> property, IReadOnlyList<TensorSpec> specs)
    {
        json.WriteStartArray(property);
        foreach (var spec in specs)
        {
            json.WriteStartObject();
            json.WriteString("name"u8, spec.Name);
            json.WriteString("datatype"u8, spec.DataType.ToProtocolNameUtf8());
            V2InferResponseWriter.WriteShape(json, spec.Shape);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteStrings(System.Text.Json.Utf8JsonWriter json, ReadOnlySpan<byte> property, IEnumerable<string> values)
    {
        json.WriteStartArray(property);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static (string Name, string? Version) RouteOf(HttpContext context) =>
        ((string)context.Request.RouteValues["name"]!, context.Request.RouteValues["version"] as string);

    private Task SendStatusAsync(HttpContext context, bool ok, string property)
    {
        var buffer = _responses.Rent();
        buffer.Json.WriteStartObject();
        buffer.Json.WriteBoolean(property, ok);
        buffer.Json.WriteEndObject();
        context.Response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return HttpExchange.SendAndReturnAsync(context.Response, _responses, buffer, context.RequestAborted);
    }

    private Task ServerMetadataAsync(HttpContext context)
    {
        var buffer = _responses.Rent();
        var json = buffer.Json;
        json.WriteStartObject();
        json.WriteString("name"u8, _info.Name);
        json.WriteString("version"u8, _info.Version);
        json.WriteStartArray("extensions"u8);
        json.WriteStringValue("binary_tensor_data"u8);
        json.WriteEndArray();
        json.WriteString("onnxruntime_version"u8, _info.OnnxRuntimeVersion);
        json.WriteEndObject();
        return HttpExchange.SendAndReturnAsync(context.Response, _responses, buffer, context.RequestAborted);
    }

    private Task ModelMetadataAsync(HttpContext context)
    {
        var (name, version) = RouteOf(context);
        if (_models.Find(name) is not { } entry)
        {
            return HttpExchange.SendErrorAsync(context.Response, _responses, 404, $"model '{name}' is not in the repository", context.RequestAborted);
        }

        ModelVersion? chosen;
        if (version is null)
        {
            chosen = entry.Latest ?? entry.Versions.FirstOrDefault();
        }
        else
        {
            chosen = entry.Versions.FirstOrDefault(v => v.VersionText == version);
            if (chosen is null)
            {
                return HttpExchange.SendErrorAsync(context.Response, _responses, 404, $"model '{name}' has no version '{version}'", context.RequestAborted);
            }
        }

        var buffer = _responses.Rent();
        WriteModelMetadata(buffer.Json, entry, chosen);
        return HttpExchange.SendAndReturnAsync(context.Response, _responses, buffer, context.RequestAborted);
    }

    private Task ModelReadyAsync(HttpContext context)
    {
        var (name, version) = RouteOf(context);
        try
        {
            var model = _models.Acquire(name, version);
            model.Release();
            return SendStatusAsync(context, true, "ready");
        }
        catch (InferenceException ex)
        {
            return HttpExchange.SendErrorAsync(context.Response, _responses, HttpExchange.StatusOf(ex.Kind), ex.Message, context.RequestAborted);
        }
    }

    private async Task InferAsync(HttpContext context)
    {
        var started = _time.GetTimestamp();
        var cancellationToken = context.RequestAborted;
        var (name, version) = RouteOf(context);
        byte[]? body = null;
        ModelVersion? model = null;
        try
        {
            model = _models.Acquire(name, version);
            (body, var length) = await HttpExchange.ReadBodyAsync(context.Request, _maxBody, cancellationToken).ConfigureAwait(false);
            var jsonLength = length;
            if (context.Request.Headers.TryGetValue(BinaryHeaderName, out var header))
            {
                if (!int.TryParse(header.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out jsonLength) || jsonLength > length)
                {
                    throw new InferenceException(InferenceErrorKind.InvalidInput, $"{BinaryHeaderName} is '{header}', not a length within the {length}-byte body");
                }
            }

            using var request = V2InferRequestReader.Read(body.AsSpan(0, jsonLength), body.AsSpan(jsonLength, length - jsonLength), model, _pool, out var binaryOutputs);
            ArrayPool<byte>.Shared.Return(body);
            body = null;
            using var response = await model.InferAsync(request, cancellationToken).ConfigureAwait(false);
            if (_recorder.BeforeReply)
            {
                await _recorder.RecordDurablyAsync(request, response, "v2-http", started, cancellationToken).ConfigureAwait(false);
            }

            var buffer = _responses.Rent();
            try
            {
                var headerLength = V2InferResponseWriter.Write(buffer, response, binaryOutputs);
                if (headerLength >= 0)
                {
                    context.Response.Headers[BinaryHeaderName] = headerLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await HttpExchange.SendAsync(context.Response, buffer, headerLength >= 0 ? "application/octet-stream" : "application/json", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _responses.Return(buffer);
            }

            if (!_recorder.BeforeReply)
            {
                _recorder.Record(request, response, "v2-http", started);
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
