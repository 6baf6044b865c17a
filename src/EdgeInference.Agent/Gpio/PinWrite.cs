namespace EdgeInference.Agent.Gpio;

/// <summary>One value written to an output pin of the <see cref="SimulatedGpioDriver"/>.</summary>
public readonly record struct PinWrite(int Pin, bool High, DateTimeOffset At);
