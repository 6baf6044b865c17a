using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Runtime.Drift;

/// <summary>
/// The features of one tensor. A sample is one row of the first dimension when it is dynamic (a batch), else the
/// whole tensor. A sample of at most <c>maxElementFeatures</c> elements gives one feature per element; a bigger
/// one (audio, images, embeddings) gives two summaries, its mean and its standard deviation. BYTES tensors give none.
/// </summary>
public sealed class DriftLayout
{
    private DriftLayout(TensorSpec spec, bool isOutput, DriftFeature[] features)
    {
        Spec = spec;
        IsOutput = isOutput;
        Features = features;
    }

    public TensorSpec Spec { get; }

    public bool IsOutput { get; }

    public IReadOnlyList<DriftFeature> Features { get; }

    public bool IsElementwise => Features.Count > 0 && Features[0].Statistic == DriftStatistic.Value;

    /// <summary>The layouts of every input and output of <paramref name="model"/>, inputs first.</summary>
    public static IReadOnlyList<DriftLayout> Of(ModelVersion model, int maxElementFeatures)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Inputs.Select(s => For(s, isOutput: false, maxElementFeatures))
            .Concat(model.Outputs.Select(s => For(s, isOutput: true, maxElementFeatures)))
            .ToArray();
    }

    public static DriftLayout For(TensorSpec spec, bool isOutput, int maxElementFeatures)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.DataType == TensorDataType.Bytes)
        {
            return new DriftLayout(spec, isOutput, []);
        }

        var perSample = 1L;
        for (var i = spec.HasDynamicBatchDimension ? 1 : 0; i < spec.Shape.Length; i++)
        {
            perSample = spec.Shape[i] < 0 || perSample < 0 ? -1 : perSample * spec.Shape[i];
        }

        if (perSample is >= 1 && perSample <= maxElementFeatures)
        {
            var features = new DriftFeature[perSample];
            for (var i = 0; i < features.Length; i++)
            {
                var name = perSample == 1 ? spec.Name : $"{spec.Name}[{i}]";
                features[i] = new DriftFeature(name, spec.Name, isOutput, DriftStatistic.Value, i);
            }

            return new DriftLayout(spec, isOutput, features);
        }

        return new DriftLayout(spec, isOutput,
            [new DriftFeature(spec.Name + ":mean", spec.Name, isOutput, DriftStatistic.Mean, -1), new DriftFeature(spec.Name + ":std", spec.Name, isOutput, DriftStatistic.Std, -1)]);
    }

    /// <summary>Samples in a tensor of this layout: the first dimension of a batch, else one.</summary>
    public long SamplesIn(TensorBuffer tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Spec.HasDynamicBatchDimension && tensor.Shape.Length > 0 ? tensor.Shape[0] : 1;
    }
}
