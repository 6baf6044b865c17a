using System.Text;
using EdgeInference.Agent.Grpc.V2;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Tensors;
using Google.Protobuf;

namespace EdgeInference.Fuzz;

/// <summary>The valid inputs each target's fuzzing starts from (written once into corpus/, which is kept in the repository).</summary>
internal static class SeedCorpus
{
    public static void Write(string root)
    {
        using var key = SigningKey.Generate();
        var seeds = new Dictionary<string, byte[][]>
        {
            ["v2-json"] =
            [
                Utf8("""{"id":"1","inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5,6]}],"outputs":[{"name":"y"}]}"""),
                Utf8("""{"inputs":[{"name":"x","datatype":"BYTES","shape":[2],"data":["a","\u00e9"]}],"parameters":{"binary_data_output":true}}"""),
            ],
            ["tf-serving"] = [Utf8("""{"instances":[[1,2,3],[4,5,6]]}"""), Utf8("""{"inputs":{"x":["a",{"b64":"aGVsbG8="}]}}""")],
            ["grpc-wire"] = [Grpc("floats", "FP32", [2, 2], new byte[16]), Grpc("strings", "BYTES", [1], [1, 0, 0, 0, (byte)'z'])],
            ["manifest"] =
            [
                ManifestCodec.Serialize(new PackageManifest
                {
                    Name = "scorer", Version = "1.2.3", CreatedAt = DateTimeOffset.UnixEpoch, ExpiresAt = DateTimeOffset.UnixEpoch.AddDays(9),
                    Files = [new PackageFile { Role = PackageRoles.Model, Path = "model.onnx", Size = 10, Sha256 = new string('a', 64) }],
                }),
            ],
            ["trust"] =
            [
                Convert.FromBase64String(TrustCodec.Sign(new TrustDocument
                {
                    Version = 1, ExpiresAt = DateTimeOffset.UnixEpoch.AddDays(9), RootKeys = [key.PublicKeyPem()], SigningKeys = [key.PublicKeyPem()], Floors = { ["m"] = "1.0.0" },
                }, key).Trust),
            ],
            ["model-config"] = [Utf8("""{"version_policy":{"latest":2},"batching":{"max_batch_size":8,"max_queue_size":16},"warmup":{"iterations":1,"inputs":[{"name":"x","shape":[1,3],"value":0}]}}""")],
            ["golden"] = [Utf8("""{"cases":[{"name":"c1","inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}],"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2]}]}],"tolerance":0.001}""")],
            ["npy"] = [NpyFile.Write(TensorDataType.Fp32, [2, 2], new byte[16]), NpyFile.Write(TensorDataType.Int64, [3], new byte[24])],
            ["device-status"] = [Utf8("""{"device_id":"d1","timestamp":"2026-11-29T12:00:00Z","state":"online","models":[{"model":"m","version":1,"package_version":"1.0.0","state":"READY","execution_provider":"CPU"}]}""")],
            ["device-telemetry"] = [Utf8("""{"device_id":"d1","timestamp":"2026-11-29T12:00:00Z","window_seconds":10,"models":[{"model":"m","version":1,"requests":10,"errors":1}],"process":{},"device":{},"outbox":{}}""")],
            ["rollout-parser"] = [Utf8("1,10%,50%,100%"), Utf8("error_rate<=0.01"), Utf8("5m"), Utf8("site=lab,ring=canary")],
        };
        foreach (var (target, inputs) in seeds)
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, target)).FullName;
            for (var i = 0; i < inputs.Length; i++)
            {
                File.WriteAllBytes(Path.Combine(folder, $"seed-{i + 1}"), inputs[i]);
            }
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Grpc(string model, string datatype, long[] shape, byte[] raw)
    {
        var request = new ModelInferRequest { ModelName = model, Id = "7" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = datatype };
        input.Shape.Add(shape);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(raw));
        return request.ToByteArray();
    }
}
