using Grpc.Core;

namespace EdgeInference.Agent.Grpc.V2;

/// <summary>
/// The generated service descriptors the agent binds itself (<see cref="InferenceGrpcService.BindService"/>): every
/// method but ModelInfer, which the agent binds with its own serialized-message marshaller.
/// </summary>
public static partial class GRPCInferenceService
{
    internal static Method<ServerLiveRequest, ServerLiveResponse> ServerLiveMethod => __Method_ServerLive;

    internal static Method<ServerReadyRequest, ServerReadyResponse> ServerReadyMethod => __Method_ServerReady;

    internal static Method<ModelReadyRequest, ModelReadyResponse> ModelReadyMethod => __Method_ModelReady;

    internal static Method<ServerMetadataRequest, ServerMetadataResponse> ServerMetadataMethod => __Method_ServerMetadata;

    internal static Method<ModelMetadataRequest, ModelMetadataResponse> ModelMetadataMethod => __Method_ModelMetadata;
}
