using EdgeInference.Storage;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>One logged prediction. <see cref="Sequence"/> is assigned by the log and never reused on a device.</summary>
public sealed class PredictionRecord : IDurableRecord<PredictionRecord>
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

    /// <summary>Writes the record in the log's compact binary form (its sequence is implied by its batch).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(RequestId is not null);
        if (RequestId is not null)
        {
            writer.Write(RequestId);
        }

        writer.Write(Model);
        writer.Write(Version);
        writer.Write(Timestamp.UtcTicks);
        writer.Write(LatencyMicroseconds);
        writer.Write(Protocol);
        // Indexed loops: foreach over the interfaces boxes an enumerator per record.
        writer.Write7BitEncodedInt(Outputs.Count);
        for (var o = 0; o < Outputs.Count; o++)
        {
            var output = Outputs[o];
            writer.Write(output.Name);
            WriteShape(writer, output.Shape);
            writer.Write7BitEncodedInt(output.Values.Length);
            foreach (var value in output.Values)
            {
                writer.Write(value);
            }
        }

        writer.Write7BitEncodedInt(Inputs is null ? 0 : Inputs.Count + 1);
        for (var i = 0; i < (Inputs?.Count ?? 0); i++)
        {
            var input = Inputs![i];
            writer.Write(input.Name);
            writer.Write(input.DataType);
            WriteShape(writer, input.Shape);
            writer.Write7BitEncodedInt(input.Data.Length);
            writer.Write(input.Data);
        }
    }

    public static PredictionRecord ReadFrom(BinaryReader reader, long sequence)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var record = new PredictionRecord
        {
            Sequence = sequence,
            RequestId = reader.ReadBoolean() ? reader.ReadString() : null,
            Model = reader.ReadString(),
            Version = reader.ReadInt64(),
            Timestamp = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
            LatencyMicroseconds = reader.ReadInt64(),
            Protocol = reader.ReadString(),
        };
        var outputs = new PredictionOutputSummary[reader.Read7BitEncodedInt()];
        for (var i = 0; i < outputs.Length; i++)
        {
            var name = reader.ReadString();
            var shape = ReadShape(reader);
            var values = new double[reader.Read7BitEncodedInt()];
            for (var v = 0; v < values.Length; v++)
            {
                values[v] = reader.ReadDouble();
            }

            outputs[i] = new PredictionOutputSummary(name, shape, values);
        }

        record.Outputs = outputs;
        var inputs = reader.Read7BitEncodedInt() - 1;
        if (inputs >= 0)
        {
            var samples = new PredictionInputSample[inputs];
            for (var i = 0; i < inputs; i++)
            {
                var name = reader.ReadString();
                var datatype = reader.ReadString();
                var shape = ReadShape(reader);
                samples[i] = new PredictionInputSample(name, datatype, shape, reader.ReadBytes(reader.Read7BitEncodedInt()));
            }

            record.Inputs = samples;
        }

        return record;
    }

    private static void WriteShape(BinaryWriter writer, long[] shape)
    {
        writer.Write7BitEncodedInt(shape.Length);
        foreach (var dim in shape)
        {
            writer.Write7BitEncodedInt64(dim);
        }
    }

    private static long[] ReadShape(BinaryReader reader)
    {
        var shape = new long[reader.Read7BitEncodedInt()];
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = reader.Read7BitEncodedInt64();
        }

        return shape;
    }
}
