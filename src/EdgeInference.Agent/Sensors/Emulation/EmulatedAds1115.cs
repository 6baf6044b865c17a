using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// An ADS1115 at the register level: a pointer register selecting four 16-bit big-endian registers (conversion, config,
/// two thresholds). Writing the config with OS set in single-shot mode converts the input its MUX selects, at the gain
/// its PGA selects, from <see cref="Voltage"/>; continuous mode converts at each read of the conversion register.
/// </summary>
public sealed class EmulatedAds1115 : I2cDevice
{
    private static readonly double[] FullScale = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256];
    private readonly Lock _gate = new();
    private readonly ushort[] _registers = [0, 0x8583, 0x8000, 0x7FFF];
    private readonly List<(int Input, short Raw, double Volts)> _served = [];
    private int _pointer;

    public EmulatedAds1115(int busId = 1, int address = 0x48)
    {
        ConnectionSettings = new I2cConnectionSettings(busId, address);
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    public bool Answering { get; set; } = true;

    /// <summary>The voltage at input AIN0..AIN3 for the n-th conversion.</summary>
    public Func<int, long, double> Voltage { get; set; } = (input, n) => 0.5 + input + (0.1 * Math.Sin(n / 4.0));

    /// <summary>Every conversion: the MUX setting, the raw result, and the volts it stands for.</summary>
    public IReadOnlyList<(int Input, short Raw, double Volts)> Served
    {
        get
        {
            lock (_served)
            {
                return _served.ToArray();
            }
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            Acknowledge();
            if (buffer.IsEmpty)
            {
                return;
            }

            _pointer = buffer[0] & 3;
            if (buffer.Length < 3)
            {
                return;
            }

            var value = BinaryPrimitives.ReadUInt16BigEndian(buffer[1..3]);
            if (_pointer == 0)
            {
                return; // the conversion register is read-only
            }

            if (_pointer == 1)
            {
                var singleShot = (value & 0x0100) != 0;
                _registers[1] = (ushort)(value | 0x8000); // OS reads 1: no conversion in progress
                if (singleShot && (value & 0x8000) != 0)
                {
                    Convert();
                }

                return;
            }

            _registers[_pointer] = value;
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            Acknowledge();
            if (_pointer == 0 && (_registers[1] & 0x0100) == 0)
            {
                Convert(); // continuous mode: always a fresh result
            }

            Span<byte> register = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(register, _registers[_pointer]);
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] = register[i % 2];
            }
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Convert()
    {
        var config = _registers[1];
        var mux = (config >> 12) & 7;
        var fullScale = FullScale[(config >> 9) & 7];
        lock (_served)
        {
            long n = _served.Count;
            var volts = mux switch
            {
                0 => Voltage(0, n) - Voltage(1, n),
                1 => Voltage(0, n) - Voltage(3, n),
                2 => Voltage(1, n) - Voltage(3, n),
                3 => Voltage(2, n) - Voltage(3, n),
                _ => Voltage(mux - 4, n),
            };
            var raw = (short)Math.Clamp(Math.Round(volts / (fullScale / 32768.0)), short.MinValue, short.MaxValue);
            _registers[0] = (ushort)raw;
            _served.Add((mux, raw, raw * (fullScale / 32768.0)));
        }
    }

    private void Acknowledge()
    {
        if (!Answering)
        {
            throw new IOException("Error 121 performing I2C data transfer.");
        }
    }
}
