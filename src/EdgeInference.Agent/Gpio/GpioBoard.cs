using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace EdgeInference.Agent.Gpio;

/// <summary>The agent's one GPIO controller, over the configured driver (libgpiod, sysfs or simulated).</summary>
public sealed class GpioBoard : IDisposable
{
    private readonly Lock _gate = new();

    public GpioBoard(GpioOptions options, SimulatedGpioDriver? simulated)
    {
        ArgumentNullException.ThrowIfNull(options);
        GpioDriver driver;
        try
        {
            driver = options.Driver switch
            {
                "libgpiod" => new LibGpiodDriver(options.Chip),
                "sysfs" => new SysFsDriver(),
                "simulated" => simulated ?? throw new InvalidOperationException("the simulated GPIO driver is not registered"),
                _ => throw new InvalidOperationException("no such driver"),
            };
        }
        catch (Exception ex) when (ex is not InvalidOperationException || options.Driver != "simulated")
        {
            throw new InvalidOperationException($"GPIO driver '{options.Driver}' (chip {options.Chip}) cannot be opened: {ex.Message}", ex);
        }

        Controller = new GpioController(driver);
        DriverName = options.Driver;
    }

    public GpioController Controller { get; }

    public string DriverName { get; }

    public void OpenInput(int pin, bool pullUp)
    {
        lock (_gate)
        {
            var mode = pullUp ? PinMode.InputPullUp : PinMode.InputPullDown;
            Controller.OpenPin(pin, Controller.IsPinModeSupported(pin, mode) ? mode : PinMode.Input);
        }
    }

    public void OpenOutput(int pin, bool activeLow)
    {
        lock (_gate)
        {
            Controller.OpenPin(pin, PinMode.Output, activeLow ? PinValue.High : PinValue.Low);
        }
    }

    public void Write(int pin, bool on, bool activeLow)
    {
        lock (_gate)
        {
            Controller.Write(pin, on != activeLow ? PinValue.High : PinValue.Low);
        }
    }

    public void Dispose() => Controller.Dispose();
}
