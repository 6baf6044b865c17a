using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Testing;
using Google.Protobuf;

namespace EdgeInference.Benchmarks;

/// <summary>A v2 gRPC ModelInfer request carrying one FP32 input in raw_input_contents.</summary>
internal static class RawInferRequest
{
    public static ModelInferRequest For(string model, NamedTensor input)
    {
        var request = new ModelInferRequest { ModelName = model };
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = "FP32" };
        tensor.Shape.Add(input.Shape);
        request.Inputs.Add(tensor);
        request.RawInputContents.Add(ByteString.CopyFrom(input.Data));
        return request;
    }
}
