using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Agent.Hosting;
using EdgeInference.Agent.PredictionLog;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Google.Protobuf;
using Grpc.Core;

namespace EdgeInference.Agent.Grpc;

/// <summary>
/// The Open Inference Protocol v2 gRPC service, <c>inference.GRPCInferenceService</c>. It binds its own methods
/// (<see cref="BindService"/>) so that ModelInfer takes and gives serialized messages: raw tensors are read from and
/// written to the wire format directly, and only typed contents go through protobuf objects. Grpc.AspNetCore finds
/// each handler by name as a public virtual method declared here.
/// </summary>
[BindServiceMethod(typeof(InferenceGrpcService), nameof(BindService))]
internal class InferenceGrpcService
{
    private static readonly Method<SerializedMessage, SerializedMessage> ModelInferMethod = new(
        MethodType.Unary, GRPCInferenceService.Descriptor.FullName, "ModelInfer", SerializedMessage.Marshaller, SerializedMessage.Marshaller);

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

    public static void BindService(ServiceBinderBase binder, InferenceGrpcService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(GRPCInferenceService.ServerLiveMethod, service is null ? null : service.ServerLive);
        binder.AddMethod(GRPCInferenceService.ServerReadyMethod, service is null ? null : service.ServerReady);
        binder.AddMethod(GRPCInferenceService.ModelReadyMethod, service is null ? null : service.ModelReady);
        binder.AddMethod(GRPCInferenceService.ServerMetadataMethod, service is null ? null : service.ServerMetadata);
        binder.AddMethod(GRPCInferenceService.ModelMetadataMethod, service is null ? null : service.ModelMetadata);
        binder.AddMethod(ModelInferMethod, service is null ? null : service.ModelInfer);
    }

    public virtual Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public virtual Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = _models.IsInitialized });

    public virtual Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
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

    public virtual Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = _info.Name, Version = _info.Version, Extensions = { "binary_tensor_data" } });

    public virtual Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
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

    public virtual async Task<SerializedMessage> ModelInfer(SerializedMessage request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var started = _time.GetTimestamp();
        ModelVersion? model = null;
        InferenceRequest? inference = null;
        try
        {
            bool raw;
            if (GrpcTensorCodec.TryReadRawTarget(request.Span, out var name, out var version))
            {
                model = _models.Acquire(name, version);
                inference = GrpcTensorCodec.ReadRawRequest(request.Span, model, _pool);
                raw = true;
            }
            else
            {
                var typed = ModelInferRequest.Parser.ParseFrom(request.Span);
                model = _models.Acquire(typed.ModelName, typed.ModelVersion);
                inference = GrpcTensorCodec.ReadRequest(typed, model, _pool);
                raw = typed.Inputs.Count == 0;
            }

            request.Dispose();
            var response = await model.InferAsync(inference, context.CancellationToken).ConfigureAwait(false);
            SerializedMessage reply;
            try
            {
                reply = raw || response.Outputs.Any(o => o?.DataType is TensorDataType.Fp16 or TensorDataType.Bf16)
                    ? GrpcTensorCodec.WriteRawResponse(response)
                    : GrpcTensorCodec.WriteResponse(response);
            }
            catch
            {
                response.Dispose();
                throw;
            }

            if (_recorder.BeforeReply)
            {
                // Audit-grade log: the reply is returned only once its record is committed.
                try
                {
                    await _recorder.RecordDurablyAsync(inference, response, "v2-grpc", started, context.CancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    reply.Dispose();
                    throw;
                }
                finally
                {
                    response.Dispose();
                }

                return reply;
            }

            // Recorded once the reply is on its way, as the HTTP APIs do; the recorder now owns request and response.
            _recorder.RecordWhenCompleted(context.GetHttpContext().Response, inference, response, "v2-grpc", started);
            inference = null;
            return reply;
        }
        catch (InferenceException ex)
        {
            throw ToRpc(ex);
        }
        catch (OverflowException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "an input value does not fit the input's datatype"));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the request is not a valid ModelInferRequest: {ex.Message}"));
        }
        finally
        {
            inference?.Dispose();
            model?.Release();
            request.Dispose();
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
