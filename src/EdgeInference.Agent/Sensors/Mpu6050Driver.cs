using Iot.Device.Imu;

namespace EdgeInference.Agent.Sensors;

/// <summary>An MPU6050 IMU on I2C: the accelerometer's three axes in m/s², as the binding converts them.</summary>
internal sealed class Mpu6050Driver : SensorDriver
{
    private readonly Mpu6050 _imu;

    public Mpu6050Driver(ISensorBus bus, SensorDeviceOptions options)
    {
        var device = bus.OpenI2c(options.Bus, options.Address ?? SensorChips.DefaultAddress(SensorChips.Mpu6050));
        var range = (options.Range ?? "2g") switch
        {
            "4g" => AccelerometerRange.Range04G,
            "8g" => AccelerometerRange.Range08G,
            "16g" => AccelerometerRange.Range16G,
            _ => AccelerometerRange.Range02G,
        };

        // The binding resets the chip, wakes it and checks its WHO_AM_I (0x68) before anything else.
        _imu = Bind(device, () => new Mpu6050(device) { AccelerometerRange = range });
    }

    public override IReadOnlyList<string> Values { get; } = ["accel_x_m_s2", "accel_y_m_s2", "accel_z_m_s2"];

    public override void Read(Span<float> sample)
    {
        var acceleration = _imu.GetAccelerometer();
        sample[0] = acceleration.X;
        sample[1] = acceleration.Y;
        sample[2] = acceleration.Z;
    }

    public override void Dispose() => _imu.Dispose();
}
