namespace EdgeInference.Agent.Sensors;

/// <summary>One opened sensor chip behind its Iot.Device.Bindings driver: one sample of its values at a time, in the binding's units.</summary>
internal abstract class SensorDriver : IDisposable
{
    /// <summary>The names of one sample's values, with their unit (<c>accel_x_m_s2</c>).</summary>
    public abstract IReadOnlyList<string> Values { get; }

    /// <summary>Reads one sample into <paramref name="sample"/> (<see cref="Values"/> long); throws <see cref="IOException"/> when the chip does not answer.</summary>
    public abstract void Read(Span<float> sample);

    /// <summary>Checks that the chip still answers before a window, where a read alone cannot tell (SPI reads zeros from an empty socket).</summary>
    public virtual void Check()
    {
    }

    /// <summary>The readings telemetry reports for one sample: each value by name (a quantity the chip skipped left out), unless the chip says otherwise.</summary>
    public virtual void Summarize(ReadOnlySpan<float> sample, Dictionary<string, double> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        for (var i = 0; i < sample.Length; i++)
        {
            if (float.IsFinite(sample[i]))
            {
                readings[Values[i]] = Math.Round(sample[i], 6);
            }
        }
    }

    public abstract void Dispose();

    /// <summary>Makes the binding over <paramref name="device"/>; the device is disposed if the binding cannot be made (the chip did not answer).</summary>
    protected static T Bind<T>(IDisposable device, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(create);
        try
        {
            return create();
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }
}
