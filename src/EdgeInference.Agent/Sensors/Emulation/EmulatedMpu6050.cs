using System.Buffers.Binary;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// An MPU6050 at the register level: WHO_AM_I 0x68, PWR_MGMT_1's self-clearing reset, ACCEL_CONFIG's full-scale range, and
/// big-endian accelerometer data at ACCEL_XOUT_H (0x3B) latched from <see cref="Signal"/> (in g) at each burst read.
/// </summary>
public sealed class EmulatedMpu6050 : EmulatedI2cChip
{
    private const byte WhoAmI = 0x75;
    private const byte PowerManagement1 = 0x6B;
    private const byte AccelConfig = 0x1C;
    private const byte AccelXOutHigh = 0x3B;
    private readonly List<short[]> _served = [];

    public EmulatedMpu6050(int busId = 1, int address = 0x68)
        : base(busId, address)
    {
        PowerOnDefaults();
    }

    /// <summary>The acceleration (x, y, z, in g) of the n-th sample read.</summary>
    public Func<int, (double X, double Y, double Z)> Signal { get; set; } = n => (0.01 * Math.Sin(n / 5.0), 0.02 * Math.Cos(n / 7.0), 1.0);

    /// <summary>The raw counts of every sample served, in order.</summary>
    public IReadOnlyList<short[]> Served
    {
        get
        {
            lock (_served)
            {
                return _served.ToArray();
            }
        }
    }

    /// <summary>The full-scale range ACCEL_CONFIG selects, in g.</summary>
    public int RangeG => 2 << ((Registers[AccelConfig] >> 3) & 3);

    protected override void WriteRegister(byte register, byte value)
    {
        if (register == PowerManagement1 && (value & 0x80) != 0)
        {
            PowerOnDefaults(); // DEVICE_RESET: every register to its default, and the bit clears itself
            return;
        }

        if (register != WhoAmI)
        {
            base.WriteRegister(register, value);
        }
    }

    protected override void BeforeRead(byte register, int length)
    {
        if (register != AccelXOutHigh)
        {
            return;
        }

        lock (_served)
        {
            var (x, y, z) = Signal(_served.Count);
            short[] raw = [Counts(x), Counts(y), Counts(z)];
            _served.Add(raw);
            for (var i = 0; i < 3; i++)
            {
                BinaryPrimitives.WriteInt16BigEndian(Registers.AsSpan(AccelXOutHigh + (2 * i), 2), raw[i]);
            }
        }
    }

    private short Counts(double g) => (short)Math.Clamp(Math.Round(g * 32768.0 / RangeG), short.MinValue, short.MaxValue);

    private void PowerOnDefaults()
    {
        Array.Clear(Registers);
        Registers[WhoAmI] = 0x68;
        Registers[PowerManagement1] = 0x40; // asleep until woken
    }
}
