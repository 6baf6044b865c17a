using LiteDB;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>One logged prediction. <see cref="Sequence"/> is assigned by the log and never reused on a device.</summary>
public sealed class PredictionRecord
{
    public long Sequence { get; set; }

    public string? RequestId { get; set; }

    public string Model { get; set; } = "";

    public long Version { get; set; }

    public DateTimeOffset Timestamp { get; set; }

    public long LatencyMicroseconds { get; set; }

    /// <summary><c>v2-http</c>, <c>v2-grpc</c> or <c>v1-http</c>.</summary>
    public string Protocol { get; set; } = "";

    public IReadOnlyList<PredictionOutputSummary> Outputs { get; set; } = [];

    /// <summary>The inputs, for the sampled share of records; null otherwise.</summary>
    public IReadOnlyList<PredictionInputSample>? Inputs { get; set; }

    public BsonDocument ToBson()
    {
        var outputs = new BsonArray();
        foreach (var output in Outputs)
        {
            outputs.Add(new BsonDocument
            {
                ["name"] = output.Name,
                ["shape"] = new BsonArray(output.Shape.Select(d => new BsonValue(d))),
                ["values"] = new BsonArray(output.Values.Select(v => new BsonValue(v))),
            });
        }

        var document = new BsonDocument
        {
            ["_id"] = Sequence,
            ["rid"] = RequestId is null ? BsonValue.Null : new BsonValue(RequestId),
            ["model"] = Model,
            ["version"] = Version,
            ["ts"] = Timestamp.UtcDateTime,
            ["latency_us"] = LatencyMicroseconds,
            ["protocol"] = Protocol,
            ["outputs"] = outputs,
        };
        if (Inputs is not null)
        {
            var inputs = new BsonArray();
            foreach (var input in Inputs)
            {
                inputs.Add(new BsonDocument
                {
                    ["name"] = input.Name,
                    ["datatype"] = input.DataType,
                    ["shape"] = new BsonArray(input.Shape.Select(d => new BsonValue(d))),
                    ["data"] = input.Data,
                });
            }

            document["inputs"] = inputs;
        }

        return document;
    }

    public static PredictionRecord FromBson(BsonDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new PredictionRecord
        {
            Sequence = document["_id"].AsInt64,
            RequestId = document["rid"].IsNull ? null : document["rid"].AsString,
            Model = document["model"].AsString,
            Version = document["version"].AsInt64,
            Timestamp = new DateTimeOffset(DateTime.SpecifyKind(document["ts"].AsDateTime, DateTimeKind.Utc)),
            LatencyMicroseconds = document["latency_us"].AsInt64,
            Protocol = document["protocol"].AsString,
            Outputs = document["outputs"].AsArray.Select(o => new PredictionOutputSummary(
                o["name"].AsString,
                o["shape"].AsArray.Select(d => d.AsInt64).ToArray(),
                o["values"].AsArray.Select(v => v.AsDouble).ToArray())).ToArray(),
            Inputs = document.TryGetValue("inputs", out var inputs)
                ? inputs.AsArray.Select(i => new PredictionInputSample(
                    i["name"].AsString, i["datatype"].AsString, i["shape"].AsArray.Select(d => d.AsInt64).ToArray(), i["data"].AsBinary)).ToArray()
                : null,
        };
    }
}
