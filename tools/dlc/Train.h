//===- Train.h - `dlc train` ------------------------------------*- C++ -*-===//
#ifndef DLC_TOOLS_DLC_TRAIN_H
#define DLC_TOOLS_DLC_TRAIN_H

namespace dlc::tools {

/// `dlc train MODEL.onnx --data ... -o OUT.onnx`: argv as main's, argv[1] == "train".
int trainCommand(int argc, char **argv);

} // namespace dlc::tools

#endif // DLC_TOOLS_DLC_TRAIN_H
