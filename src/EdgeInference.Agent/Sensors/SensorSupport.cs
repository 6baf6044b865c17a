using System.Diagnostics.CodeAnalysis;

namespace EdgeInference.Agent.Sensors;

/// <summary>
/// Whether this agent was published with its sensor drivers. <c>-p:Sensors=false</c> turns the switch off at publish
/// time; the AOT compiler then takes it as a constant and leaves out the drivers with what only they use:
/// Iot.Device.Bindings and UnitsNet.
/// </summary>
public static class SensorSupport
{
    public const string Switch = "EdgeInference.Agent.Sensors.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var enabled) || enabled;
}
