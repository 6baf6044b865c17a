using System.Device.I2c;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// A sensor chip emulated at the I2C bus level: a register file behind a register pointer that auto-increments, as the
/// datasheets describe. The bindings' own initialization and conversion code talks to it exactly as to silicon. While
/// <see cref="Answering"/> is false every transfer fails as the Linux driver fails when nothing acknowledges (EREMOTEIO).
/// </summary>
public abstract class EmulatedI2cChip : I2cDevice
{
    private readonly Lock _gate = new();
    private byte _pointer;

    protected EmulatedI2cChip(int busId, int address)
    {
        ConnectionSettings = new I2cConnectionSettings(busId, address);
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    /// <summary>Whether the chip acknowledges; false plays a loose wire or a dead chip.</summary>
    public bool Answering { get; set; } = true;

    protected byte[] Registers { get; } = new byte[256];

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            Acknowledge();
            if (buffer.IsEmpty)
            {
                return;
            }

            _pointer = buffer[0];
            foreach (var value in buffer[1..])
            {
                WriteRegister(_pointer++, value);
            }
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            Acknowledge();
            BeforeRead(_pointer, buffer.Length);
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] = ReadRegister(_pointer++);
            }
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected virtual void WriteRegister(byte register, byte value) => Registers[register] = value;

    protected virtual byte ReadRegister(byte register) => Registers[register];

    /// <summary>A read of <paramref name="length"/> bytes starts at <paramref name="register"/>: where a chip latches a new sample.</summary>
    protected virtual void BeforeRead(byte register, int length)
    {
    }

    /// <summary>The binding disposes its device; the chip stays on the bus for the next open.</summary>
    protected override void Dispose(bool disposing)
    {
    }

    private void Acknowledge()
    {
        if (!Answering)
        {
            throw new IOException("Error 121 performing I2C data transfer.");
        }
    }
}
