using EdgeInference.Testing;

namespace EdgeInference.Tests.Optimization;

/// <summary>
/// A theory over TensorFlow Lite Micro's test models (<see cref="TestPaths.TfliteMicro"/>): reported as skipped, with
/// where it looked, on a machine that does not have them.
/// </summary>
public sealed class TfliteMicroTheoryAttribute : TheoryAttribute
{
    public TfliteMicroTheoryAttribute()
    {
        if (!Directory.Exists(TestPaths.TfliteMicro))
        {
            Skip = $"tflite-micro's test models are not on this machine ({TestPaths.TfliteMicro})";
        }
    }
}
