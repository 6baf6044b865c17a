using System.Buffers.Binary;
using System.Device.Spi;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// An ADXL345 at the SPI level: the first byte of a transfer is the register with its read (0x80) and multi-byte (0x40)
/// bits; DEVID 0xE5; DATA_FORMAT's range; little-endian axis data from DATAX0 (0x32), 10-bit, latched from
/// <see cref="Signal"/> (in g) at each data read. Unplugged (<see cref="Connected"/> false), it reads as zeros, as SPI does.
/// </summary>
public sealed class EmulatedAdxl345 : SpiDevice
{
    private const byte DeviceId = 0x00;
    private const byte DataFormat = 0x31;
    private const byte DataX0 = 0x32;
    private readonly Lock _gate = new();
    private readonly byte[] _registers = new byte[64];
    private readonly List<short[]> _served = [];

    public EmulatedAdxl345(int busId = 0, int chipSelect = 0)
    {
        ConnectionSettings = new SpiConnectionSettings(busId, chipSelect);
        _registers[DeviceId] = 0xE5;
    }

    public override SpiConnectionSettings ConnectionSettings { get; }

    /// <summary>False plays an empty socket: every byte reads 0.</summary>
    public bool Connected { get; set; } = true;

    public Func<int, (double X, double Y, double Z)> Signal { get; set; } = n => (0.25 * Math.Sin(n / 3.0), -0.5, 0.98);

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

    /// <summary>The range DATA_FORMAT selects, in g.</summary>
    public int RangeG => 2 << (_registers[DataFormat] & 3);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (!Connected || buffer.IsEmpty || (buffer[0] & 0x80) != 0)
            {
                return;
            }

            var register = buffer[0] & 0x3F;
            foreach (var value in buffer[1..])
            {
                if (register != DeviceId)
                {
                    _registers[register] = value;
                }

                register = (register + 1) & 0x3F;
            }
        }
    }

    public override void Read(Span<byte> buffer) => buffer.Clear();

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        lock (_gate)
        {
            readBuffer.Clear();
            if (!Connected || writeBuffer.IsEmpty)
            {
                return;
            }

            if ((writeBuffer[0] & 0x80) == 0)
            {
                Write(writeBuffer);
                return;
            }

            var register = writeBuffer[0] & 0x3F;
            if (register == DataX0)
            {
                Latch();
            }

            var multiByte = (writeBuffer[0] & 0x40) != 0;
            for (var i = 1; i < readBuffer.Length; i++)
            {
                readBuffer[i] = _registers[register];
                if (multiByte)
                {
                    register = (register + 1) & 0x3F;
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Latch()
    {
        lock (_served)
        {
            var (x, y, z) = Signal(_served.Count);
            var perG = 512.0 / RangeG; // 10-bit resolution across ±range
            short[] raw = [Counts(x, perG), Counts(y, perG), Counts(z, perG)];
            _served.Add(raw);
            for (var i = 0; i < 3; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(_registers.AsSpan(DataX0 + (2 * i), 2), raw[i]);
            }
        }
    }

    private static short Counts(double g, double perG) => (short)Math.Clamp(Math.Round(g * perG), -512, 511);
}
