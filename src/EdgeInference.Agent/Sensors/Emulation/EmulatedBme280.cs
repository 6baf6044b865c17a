using System.Buffers.Binary;

namespace EdgeInference.Agent.Sensors.Emulation;

/// <summary>
/// A BME280 at the register level: chip id 0x60 at 0xD0, soft reset (0xE0 ← 0xB6), factory calibration at 0x88–0xA1 and
/// 0xE1–0xE7, forced mode that falls back to sleep once measured, and the raw 20-bit pressure and temperature and 16-bit
/// humidity at 0xF7–0xFE. Calibration and raw values are the datasheet's worked example (25.08 °C, 100653.27 Pa).
/// </summary>
public sealed class EmulatedBme280 : EmulatedI2cChip
{
    public const int AdcTemperature = 519888;
    public const int AdcPressure = 415148;
    public const int AdcHumidity = 30_000;
    public static readonly (ushort T1, short T2, short T3) TemperatureCalibration = (27504, 26435, -1000);
    public static readonly (ushort P1, short P2, short P3, short P4, short P5, short P6, short P7, short P8, short P9) PressureCalibration =
        (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000);
    public static readonly (byte H1, short H2, byte H3, short H4, short H5, sbyte H6) HumidityCalibration = (75, 362, 0, 313, 50, 30);
    private const byte ControlMeasure = 0xF4;

    public EmulatedBme280(int busId = 1, int address = 0x77)
        : base(busId, address)
    {
        Registers[0xD0] = 0x60;
        var (t1, t2, t3) = TemperatureCalibration;
        var (p1, p2, p3, p4, p5, p6, p7, p8, p9) = PressureCalibration;
        ushort[] words = [t1, (ushort)t2, (ushort)t3, p1, (ushort)p2, (ushort)p3, (ushort)p4, (ushort)p5, (ushort)p6, (ushort)p7, (ushort)p8, (ushort)p9];
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Registers.AsSpan(0x88 + (2 * i), 2), words[i]);
        }

        var (h1, h2, h3, h4, h5, h6) = HumidityCalibration;
        Registers[0xA1] = h1;
        BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0xE1, 2), h2);
        Registers[0xE3] = h3;
        Registers[0xE4] = (byte)(h4 >> 4);
        Registers[0xE5] = (byte)((h4 & 0xF) | ((h5 & 0xF) << 4));
        Registers[0xE6] = (byte)(h5 >> 4);
        Registers[0xE7] = (byte)h6;
        Write20Bits(0xF7, AdcPressure);
        Write20Bits(0xFA, AdcTemperature);
        BinaryPrimitives.WriteUInt16BigEndian(Registers.AsSpan(0xFD, 2), AdcHumidity);
    }

    protected override void WriteRegister(byte register, byte value)
    {
        if (register == 0xE0)
        {
            if (value == 0xB6)
            {
                Registers[0xF2] = Registers[0xF4] = Registers[0xF5] = 0;
            }

            return;
        }

        if (register is 0xD0 or (>= 0x88 and <= 0xA1) or (>= 0xE1 and <= 0xE7) or (>= 0xF7 and <= 0xFE))
        {
            return; // read-only
        }

        base.WriteRegister(register, value);
        if (register == ControlMeasure && (value & 3) is 1 or 2)
        {
            Registers[ControlMeasure] = (byte)(value & 0xFC); // forced: measured at once, back to sleep
        }
    }

    private void Write20Bits(int register, int value)
    {
        Registers[register] = (byte)(value >> 12);
        Registers[register + 1] = (byte)(value >> 4);
        Registers[register + 2] = (byte)((value & 0xF) << 4);
    }
}
