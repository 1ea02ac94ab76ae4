"""ElectroVox filters: image analysis and quantification cores, the VTK layer and the plugin."""
