using Google.FlatBuffers;

namespace EdgeInference.Tests.Optimization;

/// <summary>TFLite models made here, field by field after the schema, for what the real ones do not have.</summary>
internal static class TfliteTestModels
{
    /// <summary>
    /// A one-operator TFLite model written with the FlatBuffers builder, field by field after the schema: an int8 input
    /// [1, 4] (dynamic batch) with scale 0.5 and zero point -3, per-channel weights in buffer 1, one FULLY_CONNECTED (or the operator <paramref name="builtinCode"/> names).
    /// With <paramref name="int16"/>, the input and output are int16 (zero point 0, as TFLite's 16x8 scheme has it); the weights stay int8.
    /// </summary>
    public static byte[] Quantized(int builtinCode = 9, bool int16 = false)
    {
        var b = new FlatBufferBuilder(512);
        int Quantization(float[] scale, long[] zeroPoint, int dimension)
        {
            var s = Floats(b, scale);
            var z = Longs(b, zeroPoint);
            b.StartTable(7);
            b.AddOffset(2, s, 0);
            b.AddOffset(3, z, 0);
            b.AddInt(6, dimension, 0);
            return b.EndTable();
        }

        int Tensor(string name, sbyte type, int[] shape, int[]? signature, uint buffer, int quantization)
        {
            var n = b.CreateString(name).Value;
            var s = Ints(b, shape);
            var sig = signature is null ? 0 : Ints(b, signature);
            b.StartTable(10);
            b.AddOffset(0, s, 0);
            b.AddSbyte(1, type, 0);
            b.AddUint(2, buffer, 0);
            b.AddOffset(3, n, 0);
            b.AddOffset(4, quantization, 0);
            if (sig != 0)
            {
                b.AddOffset(7, sig, 0);
            }

            return b.EndTable();
        }

        sbyte activations = int16 ? (sbyte)7 : (sbyte)9;
        var input = Tensor("input", activations, [1, 4], [-1, 4], 0, Quantization([0.5f], [int16 ? 0 : -3], 0));
        var weights = Tensor("weights", 9, [2, 4], null, 1, Quantization([0.1f, 0.2f, 0.3f, 0.4f], [0, 0, 0, 0], 1));
        var output = Tensor("output", activations, [1, 2], null, 0, Quantization([0.25f], [0], 0));
        var opInputs = Ints(b, 0, 1);
        var opOutputs = Ints(b, 2);
        b.StartTable(13);
        b.AddUint(0, 0, 0);
        b.AddOffset(1, opInputs, 0);
        b.AddOffset(2, opOutputs, 0);
        var fullyConnected = b.EndTable();
        var tensors = Tables(b, input, weights, output);
        var graphInputs = Ints(b, 0);
        var graphOutputs = Ints(b, 2);
        var operators = Tables(b, fullyConnected);
        var graphName = b.CreateString("main").Value;
        b.StartTable(5);
        b.AddOffset(0, tensors, 0);
        b.AddOffset(1, graphInputs, 0);
        b.AddOffset(2, graphOutputs, 0);
        b.AddOffset(3, operators, 0);
        b.AddOffset(4, graphName, 0);
        var subgraph = b.EndTable();
        b.StartTable(4);
        b.AddSbyte(0, (sbyte)Math.Min(builtinCode, 127), 0);
        b.AddInt(2, 1, 1);
        b.AddInt(3, builtinCode, 0);
        var code = b.EndTable();
        b.StartTable(3);
        var empty = b.EndTable();
        b.StartVector(1, 8, 16);
        for (var i = 8; i >= 1; i--)
        {
            b.AddByte((byte)i);
        }

        var data = b.EndVector().Value;
        b.StartTable(3);
        b.AddOffset(0, data, 0);
        var constants = b.EndTable();
        var codes = Tables(b, code);
        var subgraphs = Tables(b, subgraph);
        var buffers = Tables(b, empty, constants);
        var description = b.CreateString("built by the test").Value;
        b.StartTable(8);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codes, 0);
        b.AddOffset(2, subgraphs, 0);
        b.AddOffset(3, description, 0);
        b.AddOffset(4, buffers, 0);
        b.Finish(b.EndTable(), "TFL3");
        return b.SizedByteArray();
    }

    /// <summary>
    /// A float DEPTHWISE_CONV_2D written field by field: input [1, 3, 3, 2], filter [1, 2, 2, 2] (<paramref name="filter"/>,
    /// in TFLite's order), bias [2], VALID padding, stride 1, output [1, 2, 2, 2].
    /// </summary>
    public static byte[] Depthwise(float[] filter, float[] bias) =>
        FloatOperator(
            4, 2, [("input", [1, 3, 3, 2], null, false), ("filter", [1, 2, 2, 2], filter, false), ("bias", [2], bias, false), ("output", [1, 2, 2, 2], null, false)], [0, 1, 2], 3, b =>
            {
                b.StartTable(7); // DepthwiseConv2DOptions: VALID, stride 1 × 1, depth multiplier 1
                b.AddSbyte(0, 1, 0);
                b.AddInt(1, 1, 0);
                b.AddInt(2, 1, 0);
                b.AddInt(3, 1, 0);
                return b.EndTable();
            });

    /// <summary>
    /// A float SVDF written field by field: input [1, <c>inputs</c>], weights_feature [filters, inputs], weights_time
    /// [filters, memory], bias [filters / rank], the activation state a variable [1, filters × memory], output [1, filters / rank].
    /// </summary>
    public static byte[] Svdf(float[] featureWeights, float[] timeWeights, float[] bias, int inputs, int memory, int rank)
    {
        var filters = featureWeights.Length / inputs;
        return FloatOperator(
            27, 6,
            [
                ("input", [1, inputs], null, false), ("weights_feature", [filters, inputs], featureWeights, false), ("weights_time", [filters, memory], timeWeights, false),
                ("bias", [filters / rank], bias, false), ("activation_state", [1, filters * memory], null, true), ("output", [1, filters / rank], null, false),
            ],
            [0, 1, 2, 3, 4], 5, b =>
            {
                b.StartTable(3); // SVDFOptions: rank, no fused activation
                b.AddInt(0, rank, 0);
                return b.EndTable();
            });
    }

    /// <summary>One float operator (<paramref name="builtinCode"/>) over the given tensors; tensor 0 is the graph's input, <paramref name="output"/> its output.</summary>
    private static byte[] FloatOperator(
        int builtinCode, byte optionsType, (string Name, int[] Shape, float[]? Data, bool Variable)[] tensorList, int[] inputs, int output, Func<FlatBufferBuilder, int> writeOptions)
    {
        var b = new FlatBufferBuilder(1024);
        var buffers = new List<int>();
        b.StartTable(3);
        buffers.Add(b.EndTable());
        var tensorTables = new List<int>();
        foreach (var (name, shape, data, variable) in tensorList)
        {
            var buffer = 0u;
            if (data is not null)
            {
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
                b.StartVector(1, bytes.Length, 16);
                for (var i = bytes.Length - 1; i >= 0; i--)
                {
                    b.AddByte(bytes[i]);
                }

                var vector = b.EndVector().Value;
                b.StartTable(3);
                b.AddOffset(0, vector, 0);
                buffer = (uint)buffers.Count;
                buffers.Add(b.EndTable());
            }

            var n = b.CreateString(name).Value;
            var s = Ints(b, shape);
            b.StartTable(10);
            b.AddOffset(0, s, 0);
            b.AddSbyte(1, 0, 0); // FLOAT32
            b.AddUint(2, buffer, 0);
            b.AddOffset(3, n, 0);
            b.AddBool(5, variable, false);
            tensorTables.Add(b.EndTable());
        }

        var tensors = Tables(b, [.. tensorTables]);
        var options = writeOptions(b);
        var opInputs = Ints(b, inputs);
        var opOutputs = Ints(b, output);
        b.StartTable(13);
        b.AddUint(0, 0, 0);
        b.AddOffset(1, opInputs, 0);
        b.AddOffset(2, opOutputs, 0);
        b.AddByte(3, optionsType, 0);
        b.AddOffset(4, options, 0);
        var op = b.EndTable();
        var graphInputs = Ints(b, 0);
        var graphOutputs = Ints(b, output);
        var operators = Tables(b, op);
        b.StartTable(5);
        b.AddOffset(0, tensors, 0);
        b.AddOffset(1, graphInputs, 0);
        b.AddOffset(2, graphOutputs, 0);
        b.AddOffset(3, operators, 0);
        var subgraph = b.EndTable();
        b.StartTable(4);
        b.AddSbyte(0, (sbyte)builtinCode, 0);
        b.AddInt(2, 1, 1);
        b.AddInt(3, builtinCode, 0);
        var code = b.EndTable();
        var bufferVector = Tables(b, [.. buffers]);
        var codes = Tables(b, code);
        var subgraphs = Tables(b, subgraph);
        b.StartTable(8);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codes, 0);
        b.AddOffset(2, subgraphs, 0);
        b.AddOffset(4, bufferVector, 0);
        b.Finish(b.EndTable(), "TFL3");
        return b.SizedByteArray();
    }

    // Vectors are written back to front: FlatBuffers builds a buffer from its end.
    private static int Ints(FlatBufferBuilder b, params int[] values)
    {
        b.StartVector(4, values.Length, 4);
        for (var i = values.Length - 1; i >= 0; i--)
        {
            b.AddInt(values[i]);
        }

        return b.EndVector().Value;
    }

    private static int Floats(FlatBufferBuilder b, params float[] values)
    {
        b.StartVector(4, values.Length, 4);
        for (var i = values.Length - 1; i >= 0; i--)
        {
            b.AddFloat(values[i]);
        }

        return b.EndVector().Value;
    }

    private static int Longs(FlatBufferBuilder b, params long[] values)
    {
        b.StartVector(8, values.Length, 8);
        for (var i = values.Length - 1; i >= 0; i--)
        {
            b.AddLong(values[i]);
        }

        return b.EndVector().Value;
    }

    private static int Tables(FlatBufferBuilder b, params int[] tables)
    {
        b.StartVector(4, tables.Length, 4);
        for (var i = tables.Length - 1; i >= 0; i--)
        {
            b.AddOffset(tables[i]);
        }

        return b.EndVector().Value;
    }
}
