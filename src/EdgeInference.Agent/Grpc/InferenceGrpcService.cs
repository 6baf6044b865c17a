using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Grpc.Core;

namespace EdgeInference.Agent.Grpc;

/// <summary>The Open Inference Protocol v2 gRPC service, <c>inference.GRPCInferenceService</c>.</summary>
internal sealed class InferenceGrpcService : GRPCInferenceService.GRPCInferenceServiceBase
{
    private readonly ModelRepository _models;
    private readonly PinnedBufferPool _pool;
    private readonly PredictionRecorder _recorder;
    private readonly AgentInfo _info;
    private readonly TimeProvider _time;

    public InferenceGrpcService(ModelRepository models, PinnedBufferPool pool, PredictionRecorder recorder, AgentInfo info, TimeProvider time)
    {
        _models = models;
        _pool = pool;
        _recorder = recorder;
        _info = info;
        _time = time;
    }

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = _models.IsInitialized });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        if (_models.Find(request.Name) is null)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"model '{request.Name}' is not in the repository"));
        }

        try
        {
            _models.Acquire(request.Name, request.Version).Release();
            return Task.FromResult(new ModelReadyResponse { Ready = true });
        }
        catch (InferenceException ex) when (ex.Kind == InferenceErrorKind.Unavailable)
        {
            return Task.FromResult(new ModelReadyResponse { Ready = false });
        }
        catch (InferenceException ex)
        {
            throw ToRpc(ex);
        }
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = _info.Name, Version = _info.Version, Extensions = { "binary_tensor_data" } });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var entry = _models.Find(request.Name) ?? throw new RpcException(new Status(StatusCode.NotFound, $"model '{request.Name}' is not in the repository"));
        var version = string.IsNullOrEmpty(request.Version)
            ? entry.Latest ?? entry.Versions.FirstOrDefault()
            : entry.Versions.FirstOrDefault(v => v.VersionText == request.Version)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"model '{request.Name}' has no version '{request.Version}'"));
        var response = new ModelMetadataResponse { Name = entry.Name, Platform = "onnxruntime_onnx" };
        response.Versions.Add(entry.Versions.Where(v => v.State == ModelVersionState.Ready).Select(v => v.VersionText));
        foreach (var spec in version?.Inputs ?? [])
        {
            response.Inputs.Add(Metadata(spec));
        }

        foreach (var spec in version?.Outputs ?? [])
        {
            response.Outputs.Add(Metadata(spec));
        }

        return Task.FromResult(response);
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var started = _time.GetTimestamp();
        ModelVersion? model = null;
        try
        {
            model = _models.Acquire(request.ModelName, request.ModelVersion);
            using var inference = GrpcTensorCodec.ReadRequest(request, model, _pool);
            using var response = await model.InferAsync(inference, context.CancellationToken).ConfigureAwait(false);
            var raw = request.RawInputContents.Count > 0 || request.Inputs.Count == 0
                || response.Outputs.Any(o => o?.DataType is TensorDataType.Fp16 or TensorDataType.Bf16);
            var message = GrpcTensorCodec.WriteResponse(response, raw);
            _recorder.Record(inference, response, "v2-grpc", started);
            return message;
        }
        catch (InferenceException ex)
        {
            throw ToRpc(ex);
        }
        catch (OverflowException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an input value does not fit the input's datatype"));
        }
        finally
        {
            model?.Release();
        }
    }

    private static ModelMetadataResponse.Types.TensorMetadata Metadata(TensorSpec spec)
    {
        var metadata = new ModelMetadataResponse.Types.TensorMetadata { Name = spec.Name, Datatype = spec.DataType.ToProtocolName() };
        metadata.Shape.Add(spec.Shape);
        return metadata;
    }

    private static RpcException ToRpc(InferenceException ex) => new(new Status(ex.Kind switch
    {
        InferenceErrorKind.NotFound => StatusCode.NotFound,
        InferenceErrorKind.InvalidInput => StatusCode.InvalidArgument,
        InferenceErrorKind.Unavailable => StatusCode.Unavailable,
        InferenceErrorKind.TooLarge => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    }, ex.Message));
}
