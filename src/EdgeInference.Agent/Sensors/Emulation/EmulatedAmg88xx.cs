namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// An AMG88xx (Grid-EYE) at the register level: operating mode, frame rate, the thermistor (0x0E, 0.0625 °C) and 64 pixels
/// from 0x80, each 12-bit two's complement in 0.25 °C steps, little-endian, latched from <see cref="Frame"/> at each image read.
/// </summary>
public sealed class EmulatedAmg88xx : EmulatedI2cChip
{
    private const byte PixelStart = 0x80;
    private readonly List<double[]> _served = [];

    public EmulatedAmg88xx(int busId = 1, int address = 0x68)
        : base(busId, address)
    {
        Registers[0x0E] = 0xA0; // thermistor: 416 × 0.0625 = 26 °C
        Registers[0x0F] = 0x01;
    }

    /// <summary>The 64 temperatures (°C, row by row) of the n-th frame read.</summary>
    public Func<int, double[]> Frame { get; set; } = n => Enumerable.Range(0, 64).Select(p => 21.0 + (p % 8) + (n % 3) - (p == 27 ? 30 : 0)).ToArray();

    /// <summary>Each frame served, as the chip quantized it (0.25 °C).</summary>
    public IReadOnlyList<double[]> Served
    {
        get
        {
            lock (_served)
            {
                return _served.ToArray();
            }
        }
    }

    /// <summary>The operating mode register (0 normal, 0x10 sleep).</summary>
    public byte OperatingMode => Registers[0x00];

    protected override void BeforeRead(byte register, int length)
    {
        if (register != PixelStart)
        {
            return;
        }

        lock (_served)
        {
            var frame = Frame(_served.Count);
            var quantized = new double[64];
            for (var p = 0; p < 64; p++)
            {
                var steps = (int)Math.Round(frame[p] / 0.25);
                quantized[p] = steps * 0.25;
                var twelveBits = steps & 0xFFF;
                Registers[PixelStart + (2 * p)] = (byte)twelveBits;
                Registers[PixelStart + (2 * p) + 1] = (byte)(twelveBits >> 8);
            }

            _served.Add(quantized);
        }
    }
}
